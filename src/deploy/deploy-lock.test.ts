import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DeployLock } from './deploy-lock.js';
import { DeploySignals } from './deploy-signals.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.disconnect());
const prefix = () => `t${randomBytes(4).toString('hex')}`;

describe('DeployLock on a real Redis', () => {
  it('one holder per environment; renewed while held; released for the next', async () => {
    const lock = new DeployLock(redis, prefix(), 600);
    const a = await lock.tryAcquire('acme/app', 'production', 'run-a');
    expect(a).toBeDefined();
    expect(await lock.tryAcquire('acme/app', 'production', 'run-b')).toBeUndefined();
    expect(await lock.tryAcquire('acme/app', 'staging', 'run-b')).toBeDefined();
    await new Promise((r) => setTimeout(r, 1500)); // well past the TTL: renewal keeps it
    expect(await lock.holder('acme/app', 'production')).toBe('run-a');
    await a!.release();
    expect(await lock.tryAcquire('acme/app', 'production', 'run-b')).toBeDefined();
  });

  it('a holder that stops renewing (a killed worker) loses the lock after the TTL, not before', async () => {
    const p = prefix();
    const lock = new DeployLock(redis, p, 500);
    await redis.set(`${p}:deploy:lock:acme/app:production`, 'dead-run', 'PX', 500);
    expect(await lock.tryAcquire('acme/app', 'production', 'run-b')).toBeUndefined();
    // Not even a later attempt of the same run takes it early: the first might still be running.
    expect(await lock.tryAcquire('acme/app', 'production', 'dead-run')).toBeUndefined();
    await redis.set(`${p}:deploy:lock:acme/app:production`, 'dead-run', 'PX', 300);
    const waited = await lock.acquire('acme/app', 'production', 'run-b', {
      signal: new AbortController().signal,
      pollMs: 50,
    });
    expect('lock' in waited).toBe(true);
    if ('lock' in waited) await waited.lock.release();
  });

  it('gives up waiting when told (superseded)', async () => {
    const lock = new DeployLock(redis, prefix(), 1000);
    const held = (await lock.tryAcquire('acme/app', 'production', 'run-a'))!;
    const result = await lock.acquire('acme/app', 'production', 'run-b', {
      signal: new AbortController().signal,
      pollMs: 20,
      giveUp: async () => 'newer',
    });
    expect(result).toEqual({ gaveUp: 'newer' });
    await held.release();
  });
});

describe('DeploySignals on a real Redis', () => {
  it('wakes a watcher of that commit only, and orders runs for superseding', async () => {
    const signals = new DeploySignals(redis, prefix());
    const watcher = await signals.watchCi('acme/app', 'a'.repeat(40));
    const signal = new AbortController().signal;
    await signals.notifyCi('acme/app', 'b'.repeat(40));
    expect(await watcher.next(300, signal)).toBe('timeout');
    const next = watcher.next(5000, signal);
    await signals.notifyCi('ACME/app', 'a'.repeat(40));
    expect(await next).toBe('event');
    await watcher.close();

    const s1 = await signals.nextSeq();
    const s2 = await signals.nextSeq();
    await signals.register('acme/app', s1, 'run-1', 'a'.repeat(40));
    await signals.register('acme/app', s2, 'run-2', 'b'.repeat(40));
    expect(await signals.newerThan('acme/app', s1)).toEqual([{ runId: 'run-2', sha: 'b'.repeat(40) }]);
    expect(await signals.newerThan('acme/app', s2)).toEqual([]);
    await signals.unregister('acme/app', 'run-2', 'b'.repeat(40));
    expect(await signals.newerThan('acme/app', s1)).toEqual([]);
  });
});
