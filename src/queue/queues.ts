import { Queue } from 'bullmq';
import { reportedByConnection } from './redis-connection.js';
import type { Redis } from 'ioredis';
import type { IntakeJob, RunJob } from './jobs.js';

/** Queue names. BullMQ forbids `:` in them. */
export const QUEUE_NAMES = { intake: 'intake', runs: 'runs' } as const;

export interface Queues {
  readonly intake: Queue<IntakeJob>;
  readonly runs: Queue<RunJob>;
  close(): Promise<void>;
}

/** The two BullMQ queues: cheap intake jobs (one per delivery) and workflow runs (one per subject). */
export function createQueues(connection: Redis, prefix: string): Queues {
  const intake = new Queue<IntakeJob>(QUEUE_NAMES.intake, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      // Kept a while so a redelivered webhook whose dedupe key expired still maps to the same job.
      removeOnComplete: { age: 3 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  const runs = new Queue<RunJob>(QUEUE_NAMES.runs, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      // The run ledger keeps history; a finished run job is removed so a later trigger can start anew.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  reportedByConnection(intake);
  reportedByConnection(runs);
  return {
    intake,
    runs,
    async close() {
      await Promise.all([intake.close(), runs.close()]);
    },
  };
}

/** Job counts by state for `/metrics`. */
export async function queueDepths(
  queues: Queues,
): Promise<Array<{ queue: string; state: string; count: number }>> {
  const out: Array<{ queue: string; state: string; count: number }> = [];
  for (const queue of [queues.intake, queues.runs] as Queue[]) {
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'prioritized',
    );
    for (const [state, count] of Object.entries(counts)) out.push({ queue: queue.name, state, count });
  }
  return out;
}
