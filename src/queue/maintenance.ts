import type { WorkerErrorHandler } from './run-queue.js';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

export type MaintenanceTask = (signal: AbortSignal) => Promise<void>;

/**
 * Periodic maintenance on BullMQ job schedulers: one schedule per task for the whole installation,
 * however many workers run (each scheduler id exists once in Redis).
 */
export async function startMaintenance(o: {
  connection: Redis;
  prefix: string;
  tasks: Readonly<Record<string, { everyMs: number; run: MaintenanceTask }>>;
  /** @defaultValue BullMQ's own (stack traces on stderr) */
  onError?: WorkerErrorHandler;
}): Promise<{ close(): Promise<void> }> {
  const queue = new Queue('maintenance', {
    connection: o.connection,
    prefix: o.prefix,
    defaultJobOptions: { removeOnComplete: 100, removeOnFail: 100 },
  });
  for (const [name, task] of Object.entries(o.tasks))
    await queue.upsertJobScheduler(name, { every: task.everyMs }, { name });
  const worker = new Worker(
    'maintenance',
    async (job, _token, signal) => {
      const task = o.tasks[job.name];
      if (task) await task.run(signal ?? new AbortController().signal);
    },
    { connection: o.connection, prefix: o.prefix, concurrency: 1 },
  );
  if (o.onError) {
    worker.on('error', (err) => o.onError!(err, 'maintenance'));
    queue.on('error', (err) => o.onError!(err, 'maintenance queue'));
  }
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
