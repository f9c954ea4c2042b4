// Intake jobs on a real Redis with real BullMQ: an error the engine calls unrecoverable fails the
// job on its first attempt; any other error is retried.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { isRetryable } from '../engine/run-failure.js';
import type { IntakeJob } from './jobs.js';
import { createQueues } from './queues.js';
import { createRedisConnection } from './redis-connection.js';
import { startIntakeWorker } from './run-queue.js';

const redis = createRedisConnection(inject('redisUrl'), { role: 'worker' });
afterAll(() => redis.disconnect());

async function attemptsUntilFailed(error: Error): Promise<{ attempts: number; failedReason: string }> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const queues = createQueues(redis, prefix);
  const attempts: number[] = [];
  const worker = await startIntakeWorker<IntakeJob>({
    connection: redis,
    prefix,
    retryable: isRetryable,
    processor: async (_data, attempt) => {
      attempts.push(attempt);
      throw error;
    },
  });
  try {
    const job = await queues.intake.add('x', {} as IntakeJob, {
      attempts: 3,
      backoff: { type: 'fixed', delay: 50 },
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await job.getState()) !== 'failed')
      await new Promise((resolve) => setTimeout(resolve, 50));
    const stored = await queues.intake.getJob(job.id!);
    return { attempts: attempts.length, failedReason: stored?.failedReason ?? '' };
  } finally {
    await worker.close();
    await queues.intake.obliterate({ force: true });
    await queues.close();
  }
}

describe('fail fast on errors no retry can fix', () => {
  it.each<[string, Error, number]>([
    ['a configuration error fails once', new ConfigError([{ path: 'X', message: 'bad' }]), 1],
    ['a transient error is retried to the limit', new Error('connection reset'), 3],
  ])('%s', async (_name, error, expected) => {
    const { attempts, failedReason } = await attemptsUntilFailed(error);
    expect(attempts).toBe(expected);
    expect(failedReason).toContain(error.message.split('\n')[0]!);
  });
});
