import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunLedger } from '../../src/ledger/index.js';
import { bareEnv, runCli } from '../support/cli-process.js';

const redisUrl = inject('redisUrl');

describe('droidworks runs show', () => {
  const prefix = `dwshow${randomBytes(3).toString('hex')}`;
  let redis: Redis;
  let cwd: string;

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    cwd = await mkdtemp(join(tmpdir(), 'dw-show-'));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await rm(cwd, { recursive: true, force: true });
  });

  it("prints a run's state and its ledger from a live Redis", async () => {
    const ledger = new RunLedger(redis, prefix);
    await ledger.append('acme-calc-7-abc', {
      type: 'run.started',
      attempt: 1,
      resumed: false,
      workflow: 'resolve-issue',
    });
    await ledger.append('acme-calc-7-abc', { type: 'step.started', step: 'checkout' });
    await ledger.setState('acme-calc-7-abc', { status: 'running', step: 'checkout' });

    const env = bareEnv({ REDIS_URL: redisUrl, DROIDWORKS_QUEUE_PREFIX: prefix });
    const readable = await runCli(['runs', 'show', 'acme-calc-7-abc'], { cwd, env });
    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(/Z run\.started +attempt 1\n/);
    expect(readable.stdout).toMatch(/Z step\.started +checkout\n/);

    const result = await runCli(['runs', 'show', 'acme-calc-7-abc', '--json'], { cwd, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [json, ...events] = result.stdout.split(/\n(?=\d{4}-\d\d-\d\dT)/);
    expect(JSON.parse(json!)).toMatchObject({ status: 'running', step: 'checkout' });
    expect(events.map((l) => (JSON.parse(l.slice(l.indexOf(' ') + 1)) as { type: string }).type)).toEqual([
      'run.started',
      'step.started',
    ]);

    const missing = await runCli(['runs', 'show', 'no-such-run'], { cwd, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`no run no-such-run in ${prefix} at REDIS_URL`);
  });
});
