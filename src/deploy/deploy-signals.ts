import type { Redis } from 'ioredis';

/**
 * Redis-side coordination of deploy runs across workers: CI wake-ups for waiting gates (pub/sub),
 * the order of deploy runs per repository (for superseding), and the deploy locks' connection.
 */
export class DeploySignals {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  private channel(): string {
    return `${this.prefix}:deploy:ci`;
  }
  private queueKey(repo: string): string {
    return `${this.prefix}:deploy:queue:${repo.toLowerCase()}`;
  }

  /** Tells every waiting gate of `repo@sha` to read the checks again (a CI webhook arrived). */
  async notifyCi(repo: string, sha: string): Promise<void> {
    await this.redis.publish(this.channel(), `${repo.toLowerCase()}@${sha}`);
  }

  /**
   * Subscribes to CI wake-ups for one commit before the first read of its checks, so none is lost
   * in between. `next` resolves `event` on a wake-up, `timeout` after `ms`.
   */
  async watchCi(
    repo: string,
    sha: string,
  ): Promise<{
    next(ms: number, signal: AbortSignal): Promise<'event' | 'timeout'>;
    close(): Promise<void>;
  }> {
    const sub = this.redis.duplicate();
    const wanted = `${repo.toLowerCase()}@${sha}`;
    let pending = false;
    let wake: (() => void) | undefined;
    sub.on('message', (_channel: string, message: string) => {
      if (message !== wanted) return;
      pending = true;
      wake?.();
    });
    await sub.subscribe(this.channel());
    return {
      next: (ms, signal) =>
        new Promise((resolve, reject) => {
          if (pending) {
            pending = false;
            return resolve('event');
          }
          const done = (result: 'event' | 'timeout') => {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            wake = undefined;
            pending = false;
            resolve(result);
          };
          const timer = setTimeout(() => done('timeout'), ms);
          const onAbort = () => {
            clearTimeout(timer);
            wake = undefined;
            reject(signal.reason as Error);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          wake = () => done('event');
        }),
      close: async () => {
        sub.disconnect();
      },
    };
  }

  /** The next number in the order of deploy runs (all repositories share one counter). */
  async nextSeq(): Promise<number> {
    return this.redis.incr(`${this.prefix}:deploy:seq`);
  }

  /** Records a deploy run of `repo` as waiting, in order. */
  async register(repo: string, seq: number, runId: string, sha: string): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.queueKey(repo), seq, `${runId} ${sha}`)
      .expire(this.queueKey(repo), 7 * 24 * 3600)
      .exec();
  }

  /** Deploy runs registered after `seq`, newest first: `{ runId, sha }`. */
  async newerThan(repo: string, seq: number): Promise<Array<{ runId: string; sha: string }>> {
    const members = await this.redis.zrevrangebyscore(this.queueKey(repo), '+inf', `(${seq}`);
    return members.map((m) => {
      const [runId = '', sha = ''] = m.split(' ');
      return { runId, sha };
    });
  }

  /** Forgets a deploy run (it ended, or started rolling out and can no longer be superseded). */
  async unregister(repo: string, runId: string, sha: string): Promise<void> {
    await this.redis.zrem(this.queueKey(repo), `${runId} ${sha}`);
  }
}
