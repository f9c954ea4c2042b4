import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRepoSlots } from './repo-slots.js';

describe('repo slots', () => {
  const redis = new Redis(inject('redisUrl'));
  afterAll(() => redis.disconnect());

  it('admits up to the limit per repository, frees on release, and lets expired leases go', async () => {
    const slots = createRepoSlots(redis, `t${randomUUID().slice(0, 8)}`, 2, 300);
    expect(await slots.acquire('acme/app', 'r1')).toBe(true);
    expect(await slots.acquire('acme/app', 'r2')).toBe(true);
    expect(await slots.acquire('acme/app', 'r3')).toBe(false);
    expect(await slots.acquire('acme/other', 'r4')).toBe(true);
    expect(await slots.acquire('acme/app', 'r1')).toBe(true); // a holder asking again keeps its slot
    await slots.release('acme/app', 'r1');
    expect(await slots.acquire('acme/app', 'r3')).toBe(true);
    // r2 and r3 stop renewing (their worker died): after the lease, the slots are free again.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await slots.acquire('acme/app', 'r5')).toBe(true);
    expect(await slots.acquire('acme/app', 'r6')).toBe(true);
    expect(await slots.acquire('acme/app', 'r7')).toBe(false);
  });
});
