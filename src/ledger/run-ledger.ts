import type { Redis } from 'ioredis';
import type { EventSink, RunEvent, StoredRunEvent } from './run-event.js';

/** How long a finished run's ledger is kept. @defaultValue 30 days */
const RETENTION_SECONDS = 30 * 24 * 3600;

/** One entry of {@link RunLedger.recent}. */
export interface RecentRun {
  readonly runId: string;
  /** When the run's state last changed, in milliseconds since the epoch. */
  readonly updatedAt: number;
  readonly state: Record<string, string>;
}

export interface RunLedgerOptions {
  /** How many run ids the recent-runs index keeps (newest by last update). @defaultValue 10000 */
  readonly indexSize?: number;
}

/**
 * The run ledger: an append-only Redis stream per run (`run:<id>:events`) plus a small hash for
 * its current state (`run:<id>:state`). The progress comment, dashboard, CLI and resume-after-crash
 * are all views of it.
 */
export class RunLedger {
  private readonly indexSize: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'droidworks',
    options: RunLedgerOptions = {},
  ) {
    this.indexSize = Math.max(1, options.indexSize ?? 10_000);
  }

  private eventsKey(runId: string): string {
    return `${this.prefix}:run:${runId}:events`;
  }
  private stateKey(runId: string): string {
    return `${this.prefix}:run:${runId}:state`;
  }
  /** Sorted set of run ids scored by the time their state last changed (ms). */
  private indexKey(): string {
    return `${this.prefix}:runs:index`;
  }

  async append(runId: string, event: RunEvent): Promise<string> {
    const at = Date.now();
    const id = await this.redis.xadd(this.eventsKey(runId), '*', 'e', JSON.stringify({ ...event, at }));
    await this.redis.expire(this.eventsKey(runId), RETENTION_SECONDS);
    return id ?? '';
  }

  async events(runId: string, after = '-'): Promise<StoredRunEvent[]> {
    const start = after === '-' ? '-' : `(${after}`;
    const rows = await this.redis.xrange(this.eventsKey(runId), start, '+');
    // The ledger holds only what `append` wrote, so its JSON is a RunEvent (already validated by type).
    return rows.map(([id, fields]) => ({ ...(JSON.parse(fields[1] ?? '{}') as StoredRunEvent), id }));
  }

  /** Merges `state` into the run's state hash and moves the run to the top of the recent-runs index. */
  async setState(runId: string, state: Record<string, string | number>): Promise<void> {
    const replies = await this.redis
      .multi()
      .hset(this.stateKey(runId), state)
      .expire(this.stateKey(runId), RETENTION_SECONDS)
      .zadd(this.indexKey(), Date.now(), runId)
      .zremrangebyrank(this.indexKey(), 0, -(this.indexSize + 1))
      .exec();
    const failed = replies?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  }

  /**
   * Writes a new run's `queued` state unless the run already has a status (a retried intake job must
   * never overwrite a worker's `running` or a final state). Returns the status the run has now.
   */
  async initState(runId: string, state: Record<string, string | number>): Promise<string> {
    const key = this.stateKey(runId);
    const replies = await this.redis.multi().hsetnx(key, 'status', 'queued').hget(key, 'status').exec();
    const failed = replies?.find(([err]) => err)?.[0];
    if (failed) throw failed;
    const status = String(replies?.[1]?.[1] ?? 'queued');
    if (status === 'queued') await this.setState(runId, state);
    return status;
  }

  async state(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.stateKey(runId));
  }

  /**
   * The `limit` most recently updated runs with their state, newest first: one read of the index
   * and one pipeline for the states. Runs whose state has expired are left out (and dropped from
   * the index).
   */
  async recent(limit = 50): Promise<RecentRun[]> {
    const count = Math.max(0, Math.min(Math.floor(limit), this.indexSize));
    if (count === 0) return [];
    // `[id, score, …]` (RESP2 and the default RESP3 mapping) or `[[id, score], …]` (RESP3 mapping).
    const reply: unknown[] = await this.redis.zrevrange(this.indexKey(), 0, count - 1, 'WITHSCORES');
    const ids: Array<{ runId: string; updatedAt: number }> = [];
    for (let i = 0; i < reply.length;) {
      const item = reply[i];
      if (Array.isArray(item)) {
        ids.push({ runId: String(item[0]), updatedAt: Number(item[1]) });
        i += 1;
      } else {
        ids.push({ runId: String(item), updatedAt: Number(reply[i + 1]) });
        i += 2;
      }
    }
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { runId } of ids) pipeline.hgetall(this.stateKey(runId));
    const replies = (await pipeline.exec()) ?? [];
    const runs: RecentRun[] = [];
    const expired: string[] = [];
    ids.forEach(({ runId, updatedAt }, i) => {
      const [err, state] = replies[i] ?? [null, {}];
      if (err) throw err;
      const fields = (state ?? {}) as Record<string, string>;
      if (Object.keys(fields).length === 0) expired.push(runId);
      else runs.push({ runId, updatedAt, state: fields });
    });
    if (expired.length > 0) await this.redis.zrem(this.indexKey(), ...expired);
    return runs;
  }

  /** An {@link EventSink} bound to one run. */
  sink(runId: string): EventSink {
    return { emit: async (event) => void (await this.append(runId, event)) };
  }
}
