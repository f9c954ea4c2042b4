import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { intakeJobId, type IntakeJob } from './jobs.js';
import type { Queues } from './queues.js';
import { SUBMIT_INTAKE_LUA, SUBMIT_INTAKE_SHA, SUBMIT_RESULT } from './submit-intake-script.js';

export type SubmitOutcome = 'queued' | 'duplicate';

/** Accepts webhook-born jobs and resolves once they are durably in Redis. */
export interface IntakeWriter {
  submit(job: IntakeJob): Promise<SubmitOutcome>;
}

export interface IntakeWriterOptions {
  /** How long a delivery id is remembered. @defaultValue 3 days */
  readonly dedupeTtlSeconds?: number;
  /**
   * Upper bound of jobs written in one batch. A batch that reaches it is sent at once (if fewer
   * than `maxInFlight` are in flight) instead of at the end of the event-loop turn. @defaultValue 500
   */
  readonly maxBatch?: number;
  /**
   * A batch whose reply has not come back after this long is failed (the caller answers 503),
   * whatever the connection's own command timeout. Safe because the script is atomic: if it still
   * runs later, a redelivery finds the job and is answered `duplicate`. @defaultValue 2500 ms
   */
  readonly timeoutMs?: number;
  /**
   * Batches in flight at once while Redis answers promptly; the requests that arrive meanwhile
   * form the next, larger batch (fewer round trips and syscalls under load). @defaultValue 1
   */
  readonly maxInFlight?: number;
  /**
   * A batch unanswered for this long means Redis is slow or stalled: the next batch is sent
   * without waiting for it, so no request queues behind a stalled one. @defaultValue 20 ms
   */
  readonly stallMs?: number;
}

/** Thrown to every caller of a batch that Redis did not confirm in time. */
export class IntakeTimeoutError extends Error {
  override readonly name = 'IntakeTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`Redis did not confirm the intake batch within ${timeoutMs} ms`);
  }
}

interface Pending {
  readonly job: IntakeJob;
  resolve(outcome: SubmitOutcome): void;
  reject(err: unknown): void;
}

/** Options BullMQ would store for an intake job: the queue's defaults plus its id. */
function storedOpts(defaults: JobsOptions): (jobId: string) => string {
  const unsupported = (['delay', 'priority', 'lifo', 'deduplication', 'parent'] as const).filter(
    (k) => defaults[k] !== undefined,
  );
  if (unsupported.length > 0)
    throw new Error(
      `the intake queue's defaultJobOptions use ${unsupported.join(', ')}, which the intake script does not write`,
    );
  const { backoff, ...rest } = defaults;
  // As BullMQ's Job constructor does: attempts defaults to 0, a numeric backoff means fixed.
  const base = {
    attempts: 0,
    ...rest,
    ...(backoff === undefined
      ? {}
      : { backoff: typeof backoff === 'number' ? { type: 'fixed', delay: backoff } : backoff }),
  };
  const head = JSON.stringify(base).slice(0, -1);
  return (jobId) => `${head}${head.length > 1 ? ',' : ''}"jobId":${JSON.stringify(jobId)}}`;
}

/**
 * Writes intake jobs in micro-batches: the requests that arrive while a batch is in flight share
 * the next Redis round trip, a script that claims each delivery id and writes its BullMQ job
 * atomically (see {@link SUBMIT_INTAKE_LUA}). A batch unanswered after `stallMs` no longer holds
 * the next one back, and each batch fails on its own after `timeoutMs`: on a stalled Redis every
 * request gets its 503 within `timeoutMs` of arriving, never behind another batch. Each caller
 * resolves only after its job is stored.
 */
export function createIntakeWriter(
  redis: Redis,
  queues: Queues,
  options: IntakeWriterOptions = {},
): IntakeWriter {
  const ttl = String(options.dedupeTtlSeconds ?? 3 * 24 * 3600);
  const maxBatch = options.maxBatch ?? 500;
  const timeoutMs = options.timeoutMs ?? 2500;
  const maxInFlight = options.maxInFlight ?? 1;
  const stallMs = options.stallMs ?? 20;
  const queue = queues.intake;
  const prefix = queue.opts.prefix ?? 'bull';
  const claimKey = (deliveryId: string): string => `${prefix}:delivery:${deliveryId}`;
  const k = queue.keys;
  const fixedKeys = [k.wait, k.meta, k.id, k.active, k.marker] as string[];
  const optsFor = storedOpts(queue.defaultJobOptions);
  let pending: Pending[] = [];

  async function run(args: string[], numKeys: number): Promise<unknown> {
    try {
      return await redis.evalsha(SUBMIT_INTAKE_SHA, numKeys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(SUBMIT_INTAKE_LUA, numKeys, ...args);
    }
  }

  async function write(batch: Pending[]): Promise<void> {
    const keys = fixedKeys.slice();
    const argv = [ttl, String(Date.now())];
    for (const p of batch) {
      const jobId = intakeJobId(p.job.deliveryId);
      keys.push(claimKey(p.job.deliveryId), queue.toKey(jobId));
      argv.push(jobId, p.job.kind, JSON.stringify(p.job), optsFor(jobId));
    }
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      run([...keys, ...argv], keys.length),
      // The script cannot be cancelled once sent; it is atomic, so running late is harmless.
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IntakeTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!Array.isArray(reply) || reply.length !== batch.length)
      throw new Error('the intake script returned an unexpected reply');
    batch.forEach((p, i) => p.resolve(reply[i] === SUBMIT_RESULT.written ? 'queued' : 'duplicate'));
  }

  /** Send times of the batches in flight, oldest first. */
  const inFlight: number[] = [];
  let scheduled = false;
  let recheck: NodeJS.Timeout | undefined;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // Let the other requests of this event-loop turn join the batch.
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    if (pending.length === 0) return;
    const now = performance.now();
    const oldest = inFlight[0];
    if (inFlight.length >= maxInFlight && oldest !== undefined && now - oldest < stallMs) {
      // Wait for a batch to come back, or until the oldest one counts as stalled.
      recheck ??= setTimeout(
        () => {
          recheck = undefined;
          flush();
        },
        Math.max(1, stallMs - (now - oldest)),
      );
      return;
    }
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += maxBatch) {
      const batch = all.slice(i, i + maxBatch);
      inFlight.push(now);
      write(batch)
        .catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        })
        .finally(() => {
          inFlight.splice(inFlight.indexOf(now), 1);
          if (pending.length > 0) schedule();
        });
    }
  }

  return {
    submit(job) {
      return new Promise<SubmitOutcome>((resolve, reject) => {
        pending.push({ job, resolve, reject });
        // A full batch leaves now, while the rest of this turn's requests are still parsed.
        if (pending.length >= maxBatch) flush();
        else if (pending.length === 1) schedule();
      });
    },
  };
}
