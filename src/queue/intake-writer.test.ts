import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startPausableRedis, type PausableRedis } from '../../test/support/pausable-redis.js';
import { createIntakeWriter, IntakeTimeoutError } from './intake-writer.js';
import { intakeJobId, type IntakeJob } from './jobs.js';
import { createQueues, type Queues } from './queues.js';
import { createRedisConnection } from './redis-connection.js';

const redisUrl = inject('redisUrl');

function intakeJob(deliveryId: string, n = 7): IntakeJob {
  return {
    kind: 'command',
    deliveryId,
    event: 'issue_comment',
    action: 'created',
    repo: { owner: 'acme', name: 'app', id: 1 },
    installationId: 99,
    sender: { login: 'alice', id: 10 },
    subject: { type: 'issue', number: n },
    commentId: 5,
    commands: ['/droid status'],
    receivedAt: 1_700_000_000_000,
  };
}

async function connect(url: string): Promise<Redis> {
  const redis = createRedisConnection(url, { role: 'producer' });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  return redis;
}

describe('intake writer', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(url = redisUrl): Promise<{ redis: Redis; queues: Queues; prefix: string }> {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const redis = await connect(url);
    const queues = createQueues(redis, prefix);
    cleanups.push(async () => {
      if (redis.status === 'ready') {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      await queues.close();
      redis.disconnect();
    });
    return { redis, queues, prefix };
  }

  it('writes the job hash, wait list, marker and id counter as BullMQ add does, and no stream events', async () => {
    const ours = await setup();
    const theirs = await setup();
    const job = intakeJob('d-format');
    expect(await createIntakeWriter(ours.redis, ours.queues).submit(job)).toBe('queued');
    await theirs.queues.intake.add(job.kind, job, { jobId: intakeJobId(job.deliveryId) });

    const id = intakeJobId(job.deliveryId);
    const read = async (s: { redis: Redis; prefix: string }) => {
      const hash = await s.redis.hgetall(`${s.prefix}:intake:${id}`);
      const events = await s.redis.xrange(`${s.prefix}:intake:events`, '-', '+');
      return {
        fields: Object.keys(hash).sort(),
        name: hash.name,
        data: JSON.parse(hash.data ?? 'null') as unknown,
        opts: JSON.parse(hash.opts ?? 'null') as unknown,
        delay: hash.delay,
        priority: hash.priority,
        wait: await s.redis.lrange(`${s.prefix}:intake:wait`, 0, -1),
        marker: await s.redis.zrange(`${s.prefix}:intake:marker`, '0', '-1', 'WITHSCORES'),
        idCounter: await s.redis.get(`${s.prefix}:intake:id`),
        events: events.map(([, fields]) => fields),
      };
    };
    const [a, b] = [await read(ours), await read(theirs)];
    // Everything a Worker reads is the same; the event stream (read only by QueueEvents, which
    // droidworks does not use for the intake queue) is left empty by the intake script.
    expect({ ...a, events: [] }).toEqual({ ...b, events: [] });
    expect(a.events).toEqual([]);
    expect(b.events.map((e) => e[1])).toEqual(['added', 'waiting']);
    expect(a.wait).toEqual([id]);
    expect(a.opts).toMatchObject({ attempts: 5, jobId: id, backoff: { type: 'exponential', delay: 1000 } });
  });

  it('has its jobs processed, retried and completed by an unchanged BullMQ worker', async () => {
    const { redis, queues, prefix } = await setup();
    const writer = createIntakeWriter(redis, queues);
    const ids = Array.from({ length: 20 }, (_, i) => `d-${i}`);
    const outcomes = await Promise.all(ids.map((id, i) => writer.submit(intakeJob(id, i + 1))));
    expect(outcomes).toEqual(ids.map(() => 'queued'));

    const seen = new Map<string, { data: IntakeJob; attempts: number }>();
    const workerRedis = createRedisConnection(redisUrl, { role: 'worker' });
    const done = new Promise<void>((resolve) => {
      const worker = new Worker<IntakeJob>(
        'intake',
        async (job: Job<IntakeJob>) => {
          // The first job fails once: BullMQ's retry must read the options the script stored.
          if (job.data.deliveryId === 'd-0' && job.attemptsMade === 0) throw new Error('transient');
          seen.set(job.id ?? '', { data: job.data, attempts: job.attemptsMade + 1 });
          if (seen.size === ids.length) resolve();
        },
        { connection: workerRedis, prefix },
      );
      cleanups.push(async () => {
        await worker.close();
        workerRedis.disconnect();
      });
    });
    await done;
    expect([...seen.keys()].sort()).toEqual(ids.map(intakeJobId).sort());
    expect(seen.get(intakeJobId('d-3'))?.data).toEqual(intakeJob('d-3', 4));
    expect(seen.get(intakeJobId('d-0'))?.attempts).toBe(2);
    await expect
      .poll(async () => queues.intake.getJobCounts('completed', 'waiting', 'failed'))
      .toEqual({ completed: 20, waiting: 0, failed: 0 });
  });

  it('stores one job per delivery id, within a batch and across batches', async () => {
    const { redis, queues } = await setup();
    const writer = createIntakeWriter(redis, queues);
    const first = await Promise.all([
      writer.submit(intakeJob('same')),
      writer.submit(intakeJob('same')),
      writer.submit(intakeJob('other')),
    ]);
    expect(first).toEqual(['queued', 'duplicate', 'queued']);
    expect(await writer.submit(intakeJob('same'))).toBe('duplicate');
    // Claim expired but the job is still kept: still a duplicate, and still one job.
    await redis.del(`${queues.intake.opts.prefix}:delivery:other`);
    expect(await writer.submit(intakeJob('other'))).toBe('duplicate');
    expect(await queues.intake.getWaitingCount()).toBe(2);
  });

  it('writes the deliveries that arrive while a batch is in flight in one round trip', async () => {
    // A private server, so that the command counts are ours alone.
    const server = await startPausableRedis();
    cleanups.push(() => server.stop());
    const { redis, queues } = await setup(server.url);
    const writer = createIntakeWriter(redis, queues);
    const scripts = async (): Promise<number> => {
      const info = await redis.info('commandstats');
      const calls = (name: string): number =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return calls('evalsha') + calls('eval');
    };
    // Loads the script into Redis' cache (the first call is a NOSCRIPT miss and an EVAL).
    expect(await writer.submit(intakeJob('warm-up'))).toBe('queued');
    const before = await scripts();
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => writer.submit(intakeJob(`b-${i}`))),
    );
    expect(outcomes.every((o) => o === 'queued')).toBe(true);
    expect(await queues.intake.getWaitingCount()).toBe(301);
    // 300 jobs in one event-loop turn: one script call (the old writer made a dedupe EVAL plus one
    // EVALSHA per job inside addBulk's pipeline). One more is tolerated for BullMQ's own start-up.
    expect((await scripts()) - before).toBeLessThanOrEqual(2);
  });

  it('sends a full batch at once, keeps several in flight, and dedupes across them in order', async () => {
    const server = await startPausableRedis();
    cleanups.push(() => server.stop());
    const { redis, queues } = await setup(server.url);
    const writer = createIntakeWriter(redis, queues, { maxBatch: 4, maxInFlight: 3 });
    const scripts = async (): Promise<number> => {
      const info = await redis.info('commandstats');
      const calls = (name: string): number =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return calls('evalsha') + calls('eval');
    };
    expect(await writer.submit(intakeJob('warm-up'))).toBe('queued');
    const before = await scripts();
    // One event-loop turn: 10 deliveries, 'twice' in the first batch and again in the third.
    const ids = ['twice', ...Array.from({ length: 8 }, (_, i) => `c-${i}`), 'twice'];
    const outcomes = await Promise.all(ids.map((id) => writer.submit(intakeJob(id))));
    expect(outcomes[0]).toBe('queued');
    expect(outcomes[9]).toBe('duplicate');
    expect(outcomes.slice(1, 9).every((o) => o === 'queued')).toBe(true);
    // Batches of 4, 4 and 2: three script calls (counted before BullMQ's own count script runs).
    expect((await scripts()) - before).toBe(3);
    expect(await queues.intake.getWaitingCount()).toBe(10);
  });

  it('fails a batch on a frozen Redis within its timeout, and the redelivery still ends with one job', async () => {
    const server: PausableRedis = await startPausableRedis();
    cleanups.push(() => server.stop());
    const { redis, queues } = await setup(server.url);
    const writer = createIntakeWriter(redis, queues, { timeoutMs: 1000 });
    expect(await writer.submit(intakeJob('before'))).toBe('queued');

    server.pause();
    const timed = (d: string) => {
      const t0 = performance.now();
      return writer.submit(intakeJob(d)).then(
        () => ({ ok: true, ms: performance.now() - t0 }),
        (err: unknown) => ({ ok: false, err, ms: performance.now() - t0 }),
      );
    };
    const stalled = [timed('late-a'), timed('late-b')];
    // A batch sent while the first one hangs does not queue behind it.
    await new Promise((r) => setTimeout(r, 300));
    stalled.push(timed('late-c'));
    const results = await Promise.all(stalled);
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect('err' in r && r.err).toBeInstanceOf(IntakeTimeoutError);
      expect(r.ms).toBeGreaterThanOrEqual(990);
      expect(r.ms).toBeLessThan(1500);
    }
    server.resume();

    // The scripts sent during the pause ran once Redis woke up, claim and job together.
    const again = await Promise.all(['late-a', 'late-b', 'late-c'].map((d) => writer.submit(intakeJob(d))));
    expect(again).toEqual(['duplicate', 'duplicate', 'duplicate']);
    const waiting = await redis.lrange(`${queues.intake.opts.prefix}:intake:wait`, 0, -1);
    expect(waiting.sort()).toEqual(['before', 'late-a', 'late-b', 'late-c'].map(intakeJobId).sort());
  });
});
