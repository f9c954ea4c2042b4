import type { Redis } from 'ioredis';

/**
 * Takes a slot when fewer than `limit` live leases exist (or refreshes ours): expired leases are
 * dropped first, so a crashed worker's slot frees itself. KEYS[1] the repo's slot set;
 * ARGV: now, lease expiry, limit, run id.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) - tonumber(ARGV[1]))
  return 1
end
return 0`;

/** A per-repository concurrency limit shared by every worker: leases in a Redis sorted set. */
export interface RepoSlots {
  /** True when the run holds a slot; false when the repository is at its limit. */
  acquire(repo: string, runId: string): Promise<boolean>;
  release(repo: string, runId: string): Promise<void>;
  /** Keeps a held slot alive (call more often than the lease). */
  renew(repo: string, runId: string): Promise<void>;
}

export function createRepoSlots(redis: Redis, prefix: string, limit: number, leaseMs = 60_000): RepoSlots {
  const key = (repo: string): string => `${prefix}:repo-slots:${repo.toLowerCase()}`;
  const acquire = async (repo: string, runId: string): Promise<boolean> => {
    const now = Date.now();
    return (await redis.eval(ACQUIRE, 1, key(repo), now, now + leaseMs, limit, runId)) === 1;
  };
  return {
    acquire,
    async release(repo, runId) {
      await redis.zrem(key(repo), runId);
    },
    async renew(repo, runId) {
      await acquire(repo, runId);
    },
  };
}
