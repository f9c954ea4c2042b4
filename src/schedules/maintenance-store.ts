import type { Redis } from 'ioredis';

/** The last run of one workflow in one repository, as the dashboard shows it. */
export interface LastRun {
  readonly runId: string;
  readonly status: string;
  readonly costUsd: number | null;
  readonly at: number;
  readonly pullRequest?: { readonly number: number; readonly url: string };
  readonly note?: string;
}

/** What one tick became. */
export interface TickRecord {
  /** The tick's scheduled time (ms); undefined for `/droid run` and dashboard starts. */
  readonly at?: number;
  readonly trigger: string;
  /** `started`, `folded` (a waiting run covers it), `waiting` (a limit) or `gone`. */
  readonly outcome: string;
  readonly runId?: string;
  readonly by?: string;
  readonly processedAt: number;
}

const DAY_SECONDS = 24 * 3600;

/** `2026-11` (UTC) for a time. Pure. */
export const monthKey = (at: number): string => new Date(at).toISOString().slice(0, 7);
/** `2026-11-30` (UTC) for a time. Pure. */
export const dayKey = (at: number): string => new Date(at).toISOString().slice(0, 10);

/**
 * Per-repository maintenance facts in Redis, shared by every process: monthly cost, PRs opened per
 * day, the SHA droidworks last pushed to each maintenance branch, each workflow's last run and
 * waiting reason, and the config problems last reported.
 */
export class MaintenanceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(repo: string, ...parts: string[]): string {
    return [this.prefix, 'maint', repo.toLowerCase(), ...parts].join(':');
  }

  /** Maintenance spend of the repository in the month of `at`, in USD. */
  async costThisMonth(repo: string, at = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.key(repo, 'cost', monthKey(at)))) ?? 0);
  }

  async addCost(repo: string, usd: number, at = Date.now()): Promise<void> {
    if (!(usd > 0)) return;
    const key = this.key(repo, 'cost', monthKey(at));
    await this.redis
      .multi()
      .incrbyfloat(key, usd)
      .expire(key, 40 * DAY_SECONDS)
      .exec();
  }

  async prsOpenedToday(repo: string, at = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.key(repo, 'prs', dayKey(at)))) ?? 0);
  }

  async countOpenedPr(repo: string, at = Date.now()): Promise<void> {
    const key = this.key(repo, 'prs', dayKey(at));
    await this.redis
      .multi()
      .incr(key)
      .expire(key, 2 * DAY_SECONDS)
      .exec();
  }

  /** The commit droidworks last pushed to `branch`; another head means someone else pushed. */
  async lastPushed(repo: string, branch: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key(repo, 'pushed'), branch)) ?? undefined;
  }

  async setLastPushed(repo: string, branch: string, sha: string): Promise<void> {
    await this.redis.hset(this.key(repo, 'pushed'), branch, sha);
  }

  async lastRuns(repo: string): Promise<Map<string, LastRun>> {
    const all = await this.redis.hgetall(this.key(repo, 'last'));
    return new Map(Object.entries(all).map(([workflow, json]) => [workflow, JSON.parse(json) as LastRun]));
  }

  /**
   * Records a workflow's last run; a run of one dependency group (`group: none | by-scope`) is kept
   * per group, since the groups run at once and each has its own outcome and PR.
   */
  async setLastRun(repo: string, workflow: string, run: LastRun, group?: string): Promise<void> {
    if (group === undefined) await this.redis.hset(this.key(repo, 'last'), workflow, JSON.stringify(run));
    else await this.redis.hset(this.key(repo, 'last-groups', workflow), group, JSON.stringify(run));
  }

  /** The last run of each dependency group of `workflow`, by group. */
  async groupRuns(repo: string, workflow: string): Promise<Map<string, LastRun>> {
    const all = await this.redis.hgetall(this.key(repo, 'last-groups', workflow));
    return new Map(Object.entries(all).map(([group, json]) => [group, JSON.parse(json) as LastRun]));
  }

  /** Forgets the last runs of groups not in `groups` (a group with nothing to update leaves the dashboard). */
  async keepGroupRuns(repo: string, workflow: string, groups: readonly string[]): Promise<void> {
    const key = this.key(repo, 'last-groups', workflow);
    const gone = (await this.redis.hkeys(key)).filter((g) => !groups.includes(g));
    if (gone.length > 0) await this.redis.hdel(key, ...gone);
  }

  /** Why each workflow's work waits (empty when nothing waits). */
  async waiting(repo: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key(repo, 'waiting'))));
  }

  async setWaiting(repo: string, workflow: string, reason: string | undefined): Promise<void> {
    if (reason === undefined) await this.redis.hdel(this.key(repo, 'waiting'), workflow);
    else await this.redis.hset(this.key(repo, 'waiting'), workflow, reason);
  }

  /** Sets the reported config problems; true when they differ from the last ones reported. */
  async setProblems(repo: string, problems: readonly string[]): Promise<boolean> {
    const key = this.key(repo, 'problems');
    const text = problems.join('\n');
    const previous = (await this.redis.get(key)) ?? '';
    if (previous === text) return false;
    await this.redis.set(key, text);
    return true;
  }

  /** Records what a tick (or a manual start) became, newest first, the last 200 kept. */
  async recordTick(repo: string, workflow: string, tick: TickRecord): Promise<void> {
    const key = this.key(repo, 'ticks', workflow);
    await this.redis.multi().lpush(key, JSON.stringify(tick)).ltrim(key, 0, 199).exec();
  }

  async ticks(repo: string, workflow: string): Promise<TickRecord[]> {
    const list = await this.redis.lrange(this.key(repo, 'ticks', workflow), 0, -1);
    return list.map((t) => JSON.parse(t) as TickRecord);
  }

  async problems(repo: string): Promise<string[]> {
    return ((await this.redis.get(this.key(repo, 'problems'))) ?? '').split('\n').filter(Boolean);
  }
}
