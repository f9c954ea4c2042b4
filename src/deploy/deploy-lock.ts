import type { Redis } from 'ioredis';
import { sleep } from './verify-health.js';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A held lock: renewed in the background until released. `lost` is aborted if a renewal finds it gone. */
export interface HeldLock {
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * One deploy at a time per repository and environment: a Redis key with an expiry (`ttlMs`),
 * renewed while held. A killed worker stops renewing, so its lock expires and a resumed run can
 * take it; a live holder is never overtaken.
 */
export class DeployLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 15_000,
  ) {}

  key(repo: string, environment: string): string {
    return `${this.prefix}:deploy:lock:${repo.toLowerCase()}:${environment}`;
  }

  /** Who holds the lock now (`<runId>/<attempt token>`), if anyone. */
  holder(repo: string, environment: string): Promise<string | null> {
    return this.redis.get(this.key(repo, environment));
  }

  /** Takes the lock now or returns undefined. */
  async tryAcquire(repo: string, environment: string, owner: string): Promise<HeldLock | undefined> {
    const key = this.key(repo, environment);
    const got = await this.redis.set(key, owner, 'PX', this.ttlMs, 'NX');
    if (got !== 'OK') return undefined;
    const lost = new AbortController();
    const timer = setInterval(
      () => {
        this.redis
          .eval(RENEW, 1, key, owner, String(this.ttlMs))
          .then((r) => {
            if (r === 0) lost.abort(new Error(`deploy lock ${key} was lost`));
          })
          .catch(() => undefined); // one missed renewal is covered by the next; the TTL outlives two
      },
      Math.max(250, Math.floor(this.ttlMs / 3)),
    );
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(timer);
        await this.redis.eval(RELEASE, 1, key, owner);
      },
    };
  }

  /**
   * Waits for the lock, polling every `pollMs`; while another holds it, `giveUp` is asked between
   * polls and ends the wait with its reason (a newer deploy superseded this one).
   */
  async acquire(
    repo: string,
    environment: string,
    owner: string,
    options: { signal: AbortSignal; pollMs?: number; giveUp?: () => Promise<string | undefined> },
  ): Promise<{ lock: HeldLock } | { gaveUp: string }> {
    for (;;) {
      const lock = await this.tryAcquire(repo, environment, owner);
      if (lock) return { lock };
      const reason = await options.giveUp?.();
      if (reason) return { gaveUp: reason };
      await sleep(options.pollMs ?? 250, options.signal);
    }
  }
}
