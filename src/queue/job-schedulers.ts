import type { WorkerErrorHandler } from './run-queue.js';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { reportedByConnection } from './redis-connection.js';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Queue of schedule ticks. BullMQ forbids `:` in queue names. */
export const TICKS_QUEUE = 'schedule-ticks';

/** What every tick of one schedule carries: which repository and workflow (never a secret). */
export const tickDataSchema = z.object({
  owner: z.string().min(1),
  name: z.string().min(1),
  workflow: z.string().min(1),
  /** Seconds this repository's run starts after the tick (its share of the schedule's `jitterSec`). */
  delaySec: z.int().min(0).default(0),
});
export type TickData = z.infer<typeof tickDataSchema>;

/** One schedule as stored: cron pattern, time zone, and the tick template. */
export interface StoredSchedule {
  readonly id: string;
  readonly cron: string;
  readonly timezone: string | undefined;
  readonly data: TickData | undefined;
  /** When the next tick fires (ms since epoch), when known. */
  readonly next: number | undefined;
}

/** A tick as the processor sees it. */
export interface Tick {
  readonly schedulerId: string;
  /** The tick's scheduled time (ms): the same for every process, so a run id derived from it is unique per tick. */
  readonly at: number;
  readonly data: TickData;
}

/**
 * BullMQ job schedulers, one per repository and workflow: each id exists once in Redis, and each
 * tick is one job, so several processes neither double nor skip a tick. Only this file knows BullMQ.
 */
export interface ScheduleStore {
  list(): Promise<StoredSchedule[]>;
  /** Creates or changes a schedule. Only call it when something changed: it resets the pending tick. */
  upsert(id: string, spec: { cron: string; timezone?: string }, data: TickData): Promise<void>;
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}

export function createScheduleStore(connection: Redis, prefix: string): ScheduleStore {
  const queue = new Queue<TickData>(TICKS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
  });
  reportedByConnection(queue);
  return {
    async list() {
      const out: StoredSchedule[] = [];
      const pageSize = 1000;
      for (let start = 0; ; start += pageSize) {
        const page = await queue.getJobSchedulers(start, start + pageSize - 1, true);
        for (const s of page) {
          const parsed = tickDataSchema.safeParse(s.template?.data);
          out.push({
            id: s.key,
            cron: s.pattern ?? '',
            timezone: s.tz ?? undefined,
            data: parsed.success ? parsed.data : undefined,
            next: s.next,
          });
        }
        if (page.length < pageSize) break;
      }
      return out;
    },
    async upsert(id, spec, data) {
      await queue.upsertJobScheduler(
        id,
        { pattern: spec.cron, ...(spec.timezone ? { tz: spec.timezone } : {}) },
        { name: 'tick', data, opts: { attempts: 3, backoff: { type: 'exponential', delay: 2000 } } },
      );
    },
    remove: (id) => queue.removeJobScheduler(id),
    close: () => queue.close(),
  };
}

export type TickProcessor = (tick: Tick, signal: AbortSignal) => Promise<void>;

/** Processes ticks; a tick whose data is invalid fails for good (no retry can fix it). */
export async function startTickWorker(o: {
  connection: Redis;
  prefix: string;
  concurrency?: number;
  processor: TickProcessor;
  /** @defaultValue BullMQ's own (stack traces on stderr) */
  onError?: WorkerErrorHandler;
}): Promise<{ close(): Promise<void> }> {
  const worker = new Worker<TickData>(
    TICKS_QUEUE,
    async (job, _token, signal) => {
      const parsed = tickDataSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`tick ${job.id ?? ''} has invalid data: ${parsed.error.message}`);
      const schedulerId = job.repeatJobKey ?? '';
      // A scheduler's job id is `repeat:<schedulerId>:<millis>`; its millis are the tick's time.
      const at = Number(/:(\d+)$/.exec(job.id ?? '')?.[1] ?? job.timestamp);
      await o.processor({ schedulerId, at, data: parsed.data }, signal ?? new AbortController().signal);
    },
    { connection: o.connection, prefix: o.prefix, concurrency: o.concurrency ?? 4 },
  );
  if (o.onError) worker.on('error', (err) => o.onError!(err, 'schedule ticks'));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
