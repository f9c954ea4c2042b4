import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { MaintenanceStore, type LastRun } from './maintenance-store.js';

const redisUrl = inject('redisUrl');

describe('MaintenanceStore last runs', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = new Redis(redisUrl);
    prefix = `t${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const run = (runId: string, status: string): LastRun => ({ runId, status, costUsd: 0, at: 1 });

  it('keeps one last run per dependency group beside the ungrouped one; groups no longer planned are forgotten', async () => {
    const store = new MaintenanceStore(redis, prefix);
    await store.setLastRun('Acme/App', 'dependency-update', run('all-1', 'succeeded'));
    // Two groups end at once: neither hides the other.
    await Promise.all([
      store.setLastRun('acme/app', 'dependency-update', run('a-1', 'succeeded'), 'tiny-a'),
      store.setLastRun('acme/app', 'dependency-update', run('b-1', 'failed'), 'tiny-b'),
    ]);
    expect((await store.lastRuns('acme/app')).get('dependency-update')?.runId).toBe('all-1');
    const groups = await store.groupRuns('acme/app', 'dependency-update');
    expect(Object.fromEntries([...groups].map(([g, r]) => [g, `${r.runId} ${r.status}`]))).toEqual({
      'tiny-a': 'a-1 succeeded',
      'tiny-b': 'b-1 failed',
    });

    await store.keepGroupRuns('acme/app', 'dependency-update', ['tiny-b', 'tiny-c']);
    expect([...(await store.groupRuns('acme/app', 'dependency-update')).keys()]).toEqual(['tiny-b']);
    await store.keepGroupRuns('acme/app', 'dependency-update', []);
    expect((await store.groupRuns('acme/app', 'dependency-update')).size).toBe(0);
    expect((await store.lastRuns('acme/app')).get('dependency-update')?.runId).toBe('all-1');
  });
});
