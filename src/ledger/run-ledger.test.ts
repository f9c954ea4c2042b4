import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { RunLedger } from './run-ledger.js';

const redisUrl = inject('redisUrl');

describe('RunLedger recent-runs index', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = new Redis(redisUrl);
    prefix = `t${randomUUID().slice(0, 8)}`;
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(async () => {
    vi.useRealTimers();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const at = (ms: number) => vi.setSystemTime(new Date(1_700_000_000_000 + ms));

  it('lists runs newest update first, with their state, and moves an updated run to the top', async () => {
    const ledger = new RunLedger(redis, prefix);
    at(1);
    await ledger.setState('run-a', { status: 'queued', subject: 'acme/app#1' });
    at(2);
    await ledger.setState('run-b', { status: 'queued', subject: 'acme/app#2' });
    at(3);
    await ledger.setState('run-c', { status: 'queued', subject: 'acme/app#3' });
    expect((await ledger.recent(10)).map((r) => r.runId)).toEqual(['run-c', 'run-b', 'run-a']);

    at(4);
    await ledger.setState('run-a', { status: 'running', tokens: 12 });
    const recent = await ledger.recent(10);
    expect(recent.map((r) => r.runId)).toEqual(['run-a', 'run-c', 'run-b']);
    expect(recent[0]).toEqual({
      runId: 'run-a',
      updatedAt: 1_700_000_000_004,
      state: { status: 'running', subject: 'acme/app#1', tokens: '12' },
    });
    expect((await ledger.recent(2)).map((r) => r.runId)).toEqual(['run-a', 'run-c']);
    expect(await ledger.recent(0)).toEqual([]);
  });

  it('keeps only the newest indexSize runs', async () => {
    const ledger = new RunLedger(redis, prefix, { indexSize: 3 });
    for (let i = 1; i <= 5; i += 1) {
      at(i);
      await ledger.setState(`run-${i}`, { status: 'queued' });
    }
    expect((await ledger.recent(100)).map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3']);
    expect(await redis.zcard(`${prefix}:runs:index`)).toBe(3);
    // The trimmed runs' own ledgers are untouched; only the index forgets them.
    expect(await ledger.state('run-1')).toEqual({ status: 'queued' });
  });

  it('leaves out and forgets runs whose state has expired', async () => {
    const ledger = new RunLedger(redis, prefix);
    at(1);
    await ledger.setState('old', { status: 'succeeded' });
    at(2);
    await ledger.setState('new', { status: 'running' });
    await redis.del(`${prefix}:run:old:state`);
    expect((await ledger.recent(10)).map((r) => r.runId)).toEqual(['new']);
    expect(await redis.zrange(`${prefix}:runs:index`, '0', '-1')).toEqual(['new']);
  });

  it('reads the index with RESP3 reply mapping too', async () => {
    const resp3 = new Redis(redisUrl, { protocol: 3, replyMapping: 'resp3' });
    try {
      const ledger = new RunLedger(resp3, prefix);
      at(1);
      await ledger.setState('a', { status: 'queued' });
      at(2);
      await ledger.setState('b', { status: 'running' });
      expect(await ledger.recent(10)).toEqual([
        { runId: 'b', updatedAt: 1_700_000_000_002, state: { status: 'running' } },
        { runId: 'a', updatedAt: 1_700_000_000_001, state: { status: 'queued' } },
      ]);
    } finally {
      resp3.disconnect();
    }
  });

  it('still writes the state hash with its retention', async () => {
    const ledger = new RunLedger(redis, prefix);
    await ledger.setState('r', { status: 'queued', workflow: 'resolve-issue' });
    expect(await ledger.state('r')).toEqual({ status: 'queued', workflow: 'resolve-issue' });
    expect(await redis.ttl(`${prefix}:run:r:state`)).toBeGreaterThan(29 * 24 * 3600);
  });
});
