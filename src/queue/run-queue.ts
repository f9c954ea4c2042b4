import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RepoSlots } from './repo-slots.js';
import type { Redis } from 'ioredis';
import { runJobId, subjectKey, type RepoRef, type RunJob, type SubjectRef } from './jobs.js';
import type { Queues } from './queues.js';

export interface EnqueueResult {
  /** False when a run of this subject is already waiting or running (nothing was added). */
  readonly added: boolean;
  /** The run that is waiting or running now (ours when added). */
  readonly runId: string;
  readonly state: string;
  /** 1-based position among waiting runs, when waiting. */
  readonly position?: number;
}

/** The engine's view of the run queue: add, look up, cancel. Only this folder knows it is BullMQ. */
export interface RunQueue {
  /**
   * Adds a run. By default its job id is the subject's (one run per issue or PR); `jobId` gives
   * another (scheduled runs), `delayMs` starts it later (schedule jitter).
   */
  enqueue(
    job: RunJob,
    options?: { readonly jobId?: string; readonly delayMs?: number },
  ): Promise<EnqueueResult>;
  /** The state of a run job by id (`unknown` when it does not exist or has finished). */
  stateOf(jobId: string): Promise<string>;
  /** The waiting or running run of a subject, if any. */
  current(
    repo: Pick<RepoRef, 'owner' | 'name'>,
    subject: Pick<SubjectRef, 'number'>,
  ): Promise<EnqueueResult | undefined>;
  /** Cancels the subject's run: removed when waiting, aborted on whichever worker holds it when active. */
  cancel(
    repo: Pick<RepoRef, 'owner' | 'name'>,
    subject: Pick<SubjectRef, 'number'>,
  ): Promise<{ runId: string; workflow: string; wasRunning: boolean } | undefined>;
  setGlobalConcurrency(n: number): Promise<void>;
}

/** The Redis pub/sub channel that carries cancellations to every worker. */
export const cancelChannel = (prefix: string): string => `${prefix}:runs:cancel`;

export function createRunQueue(queues: Queues, redis: Redis): RunQueue {
  const prefix = queues.runs.opts.prefix ?? 'bull';
  async function describe(job: Job<RunJob> | undefined): Promise<EnqueueResult | undefined> {
    if (!job?.id) return undefined;
    const state = await job.getState();
    if (state === 'unknown' || state === 'completed' || state === 'failed') return undefined;
    let position: number | undefined;
    if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
      const waiting = await queues.runs.getJobs(['waiting', 'prioritized'], 0, 999, true);
      const index = waiting.findIndex((w) => w.id === job.id);
      position = index >= 0 ? index + 1 : undefined;
    }
    return { added: false, runId: job.data.runId, state, position };
  }
  return {
    async enqueue(data, options) {
      const jobId = options?.jobId ?? runJobId(data.repo, data.subject);
      // Adding an id that exists is a no-op in BullMQ, and the returned Job echoes *our* data;
      // read the stored job back to learn which run won.
      await queues.runs.add(data.workflow, data, {
        jobId,
        ...(options?.delayMs ? { delay: options.delayMs } : {}),
      });
      const stored = await queues.runs.getJob(jobId);
      const now = await describe(stored);
      if (!stored || !now) return { added: true, runId: data.runId, state: 'unknown' };
      return { ...now, added: stored.data.runId === data.runId };
    },
    async stateOf(jobId) {
      const job = await queues.runs.getJob(jobId);
      return job ? await job.getState() : 'unknown';
    },
    async current(repo, subject) {
      return describe(await queues.runs.getJob(runJobId(repo, subject)));
    },
    async cancel(repo, subject) {
      const jobId = runJobId(repo, subject);
      const job = await queues.runs.getJob(jobId);
      if (!job) return undefined;
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return undefined;
      if (state === 'active') await redis.publish(cancelChannel(prefix), jobId);
      else await job.remove();
      return { runId: job.data.runId, workflow: job.data.workflow, wasRunning: state === 'active' };
    },
    async setGlobalConcurrency(n) {
      await queues.runs.setGlobalConcurrency(n);
    },
  };
}

/**
 * Runs one run job. Contract: return when the run ended in any way it has reported itself
 * (succeeded, failed for good, cancelled); throw only to ask for another attempt.
 */
export type RunProcessor = (
  job: RunJob,
  signal: AbortSignal,
  attempt: { readonly number: number; readonly max: number },
) => Promise<void>;

/**
 * Receives what a BullMQ worker reports as `error` (its own Redis connections lost, a lock renewal
 * that failed). Without one, BullMQ prints each as a raw stack trace.
 */
export type WorkerErrorHandler = (err: Error, worker: string) => void;

export interface RunWorkerOptions {
  readonly connection: Redis;
  /** @defaultValue BullMQ's own (stack traces on stderr) */
  readonly onError?: WorkerErrorHandler;
  /** A second connection for the cancel subscription (a subscribed connection can do nothing else). */
  readonly subscriber: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  readonly processor: RunProcessor;
  /** How long a run's lock lives without renewal; a worker that dies loses its runs after this. @defaultValue 30 s */
  readonly lockDurationMs?: number;
  /** Per-repository limit: a run whose repository is full waits (delayed) and tries again. */
  readonly repoSlots?: { readonly slots: RepoSlots; readonly retryMs: number; readonly renewMs: number };
  /** Told when a run waits for a repository slot (to update its progress comment). */
  readonly onRepoFull?: (job: RunJob) => Promise<void>;
  /**
   * Told when BullMQ fails a run's job (e.g. it stalled more often than allowed because its workers
   * died): the engine ends the run unless it ended itself or another attempt is queued. Must not
   * reject (it logs its own errors).
   */
  readonly onJobFailed?: (job: RunJob) => Promise<void>;
  /** Whether an error thrown by the processor is worth another attempt. @defaultValue always */
  readonly retryable?: (err: unknown) => boolean;
}

/** Rethrows `err`, as BullMQ's UnrecoverableError (no further attempt) when `retryable` says no. */
function failFast(err: unknown, retryable: ((err: unknown) => boolean) | undefined): never {
  if (err instanceof DelayedError || err instanceof UnrecoverableError || !retryable || retryable(err))
    throw err;
  const unrecoverable = new UnrecoverableError(err instanceof Error ? err.message : String(err));
  unrecoverable.cause = err;
  throw unrecoverable;
}

/** How long an exclusive run's lease lives without renewal (renewed every third of it). */
const EXCLUSIVE_LEASE_MS = 60_000;

/** A BullMQ worker for runs, with cross-worker cancellation and stalled-run recovery. */
export async function startRunWorker(
  o: RunWorkerOptions,
): Promise<{ close(): Promise<void>; worker: Worker<RunJob> }> {
  const worker = new Worker<RunJob>(
    'runs',
    async (job, token, signal) => {
      const repo = `${job.data.repo.owner}/${job.data.repo.name}`;
      const limit = o.repoSlots;
      const exclusive = job.data.exclusive ? `${o.prefix}:exclusive:${job.data.exclusive}` : undefined;
      if (exclusive) {
        const held = await o.connection.set(exclusive, job.data.runId, 'PX', EXCLUSIVE_LEASE_MS, 'NX');
        if (held === null && (await o.connection.get(exclusive)) !== job.data.runId) {
          await job.moveToDelayed(Date.now() + (limit?.retryMs ?? 5_000), token);
          throw new DelayedError();
        }
      }
      if (limit && !(await limit.slots.acquire(repo, job.data.runId))) {
        if (exclusive) await o.connection.del(exclusive);
        await o.onRepoFull?.(job.data);
        await job.moveToDelayed(Date.now() + limit.retryMs, token);
        throw new DelayedError();
      }
      const renew =
        limit || exclusive
          ? setInterval(
              () => {
                // A missed renewal is retried at the next tick; the lease outlives two misses.
                limit?.slots.renew(repo, job.data.runId).catch(() => undefined);
                if (exclusive) o.connection.pexpire(exclusive, EXCLUSIVE_LEASE_MS).catch(() => undefined);
              },
              limit?.renewMs ?? EXCLUSIVE_LEASE_MS / 3,
            )
          : undefined;
      try {
        return await o.processor(job.data, signal ?? new AbortController().signal, {
          number: job.attemptsMade + 1,
          max: job.opts.attempts ?? 1,
        });
      } catch (err) {
        failFast(err, o.retryable);
      } finally {
        clearInterval(renew);
        await limit?.slots.release(repo, job.data.runId);
        if (exclusive && (await o.connection.get(exclusive)) === job.data.runId)
          await o.connection.del(exclusive);
      }
    },
    {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: Math.min(o.lockDurationMs ?? 30_000, 30_000),
      // A run whose worker died resumes; the engine ends one that keeps dying (MAX_RUN_STARTS).
      maxStalledCount: 20,
    },
  );
  worker.on('failed', (job) => {
    if (!job || !o.onJobFailed) return;
    void o.onJobFailed(job.data);
  });
  if (o.onError) worker.on('error', (err) => o.onError!(err, 'runs'));
  await o.subscriber.subscribe(cancelChannel(o.prefix));
  o.subscriber.on('message', (channel: string, jobId: string) => {
    if (channel === cancelChannel(o.prefix)) worker.cancelJob(jobId, 'cancelled by command');
  });
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await o.subscriber.unsubscribe(cancelChannel(o.prefix));
      await worker.close();
    },
  };
}

export type IntakeProcessor<T> = (data: T, attempt: number) => Promise<void>;

/** A BullMQ worker for cheap intake jobs (authorization, commands, enqueueing runs). */
export async function startIntakeWorker<T>(o: {
  connection: Redis;
  prefix: string;
  concurrency?: number;
  processor: IntakeProcessor<T>;
  /** Whether an error thrown by the processor is worth another attempt. @defaultValue always */
  retryable?: (err: unknown) => boolean;
  /** @defaultValue BullMQ's own (stack traces on stderr) */
  onError?: WorkerErrorHandler;
}): Promise<{ close(): Promise<void> }> {
  const process = async (job: Job<T>): Promise<void> => {
    try {
      await o.processor(job.data, job.attemptsMade + 1);
    } catch (err) {
      failFast(err, o.retryable);
    }
  };
  const worker = new Worker<T>('intake', process, {
    connection: o.connection,
    prefix: o.prefix,
    concurrency: o.concurrency ?? 8,
  });
  if (o.onError) worker.on('error', (err) => o.onError!(err, 'intake'));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}

export { subjectKey };
