import type { Redis } from 'ioredis';

/** One entry of a run's ledger. `type` names what happened; the rest is plain JSON data. */
export interface RunEvent {
  readonly type: string;
  /** Milliseconds since the epoch, set by the ledger when appended. */
  readonly at?: number;
  readonly [field: string]: unknown;
}

/** Where a producer of events (agent loop, steps, engine) writes them. */
export interface EventSink {
  emit(event: RunEvent): Promise<void>;
}

export interface StoredRunEvent extends RunEvent {
  readonly id: string;
  readonly at: number;
}

/** How long a finished run's ledger is kept. @defaultValue 30 days */
const RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * The run ledger: an append-only Redis stream per run (`run:<id>:events`) plus a small hash for
 * its current state (`run:<id>:state`). The progress comment, dashboard, CLI and resume-after-crash
 * are all views of it.
 */
export class RunLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'droidworks',
  ) {}

  private eventsKey(runId: string): string {
    return `${this.prefix}:run:${runId}:events`;
  }
  private stateKey(runId: string): string {
    return `${this.prefix}:run:${runId}:state`;
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
    return rows.map(
      ([id, fields]) => ({ ...(JSON.parse(fields[1] ?? '{}') as RunEvent), id }) as StoredRunEvent,
    );
  }

  async setState(runId: string, state: Record<string, string | number>): Promise<void> {
    await this.redis.hset(this.stateKey(runId), state);
    await this.redis.expire(this.stateKey(runId), RETENTION_SECONDS);
  }

  async state(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.stateKey(runId));
  }

  /** An {@link EventSink} bound to one run. */
  sink(runId: string): EventSink {
    return { emit: async (event) => void (await this.append(runId, event)) };
  }
}
