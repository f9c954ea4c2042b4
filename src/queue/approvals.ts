import type { Redis } from 'ioredis';

/** Plan approvals: `/droid approve` sets a short-lived key that the waiting run polls. */
export function createApprovals(redis: Redis, prefix: string) {
  const key = (subject: string): string => `${prefix}:approve:${subject}`;
  return {
    async approve(subject: string, by: string): Promise<void> {
      await redis.set(key(subject), by, 'EX', 7 * 24 * 3600);
    },
    /** Resolves with the approver's login; rejects on timeout or abort. Consumes the approval. */
    async wait(subject: string, timeoutMs: number, signal: AbortSignal, pollMs = 2000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        signal.throwIfAborted();
        const by = await redis.getdel(key(subject));
        if (by) return by;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))),
        );
      }
      throw new Error(`no approval within ${Math.round(timeoutMs / 60_000)} minutes`);
    },
  };
}
