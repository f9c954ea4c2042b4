import type { EventSink, StoredRunEvent } from '../ledger/index.js';

/** What a step may tell the engine besides "done". */
export interface StepOutcome {
  /** Go back to this step (e.g. `test` sends failing output back to `code`). Bounded by `maxLoops`. */
  readonly goto?: string;
  /** JSON data saved in the ledger; a resumed run restores it and skips the step. */
  readonly saved?: Record<string, unknown>;
}

/** One step of a workflow as the engine sees it. */
export interface StepSpec {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Extra attempts for this step on retryable errors. @defaultValue 0 */
  readonly retries?: number;
  /** `success`: only while nothing failed; `failure`: only after a failure; `always`. @defaultValue `success` */
  readonly if?: 'success' | 'failure' | 'always';
}

export type StepRunner<C> = (ctx: C, step: StepSpec) => Promise<StepOutcome | void>;

/** A step implementation that may be resumed: restore its saved output into the run's state. */
export interface StepImpl<C> {
  readonly run: StepRunner<C>;
  readonly restore?: (ctx: C, saved: Record<string, unknown>) => void;
}

export class UnknownStepError extends Error {
  override readonly name = 'UnknownStepError';
  constructor(readonly step: string) {
    super(`workflow names an unknown step "${step}"`);
  }
}

/** Thrown by a step when retrying cannot help (bad configuration, refused permission…). */
export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
  constructor(
    readonly step: string,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RunStepsOptions<C> {
  readonly steps: readonly StepSpec[];
  readonly impls: Readonly<Record<string, StepImpl<C>>>;
  readonly ctx: C;
  readonly sink: EventSink;
  readonly signal: AbortSignal;
  /** Ledger of an earlier attempt of this run: completed steps with saved output are skipped. */
  readonly previous?: readonly StoredRunEvent[];
  /** Called around every step (progress comment). */
  readonly onStep?: (name: string, status: 'running' | 'done' | 'failed' | 'skipped') => Promise<void>;
  /** Called once with the first failure, before any `failure`/`always` step runs. */
  readonly onFailure?: (error: unknown) => void;
  /** Most times any one `goto` may be taken. @defaultValue 3 */
  readonly maxLoops?: number;
  /** Pause between step retries. @defaultValue 1000 ms × attempt */
  readonly retryDelayMs?: (attempt: number) => number;
}

/**
 * Runs a workflow's steps in order: the one place that knows step order, loops, per-step retries,
 * cancellation and resume. Every transition is recorded in the run ledger.
 */
export async function runSteps<C>(o: RunStepsOptions<C>): Promise<void> {
  for (const step of o.steps) if (!o.impls[step.name]) throw new UnknownStepError(step.name);
  const restored = new Map<string, Record<string, unknown>>();
  for (const e of o.previous ?? []) {
    if (e.type === 'step.completed' && typeof e.step === 'string' && e.saved && typeof e.saved === 'object')
      restored.set(e.step, e.saved as Record<string, unknown>);
  }
  const loops = new Map<string, number>();
  const maxLoops = o.maxLoops ?? 3;
  let failure: { error: unknown } | undefined;
  let i = 0;
  while (i < o.steps.length) {
    const step = o.steps[i]!;
    const impl = o.impls[step.name]!;
    if (!failure && o.signal.aborted) {
      failure = { error: o.signal.reason };
      o.onFailure?.(failure.error);
    }
    const when = step.if ?? 'success';
    if (failure ? when === 'success' : when === 'failure') {
      await o.onStep?.(step.name, 'skipped');
      i += 1;
      continue;
    }
    const saved = restored.get(step.name);
    if (!failure && saved && impl.restore) {
      impl.restore(o.ctx, saved);
      restored.delete(step.name);
      await o.sink.emit({ type: 'step.resumed', step: step.name });
      await o.onStep?.(step.name, 'done');
      i += 1;
      continue;
    }
    const outcome = await runOne(o, step, impl, failure !== undefined);
    if ('error' in outcome) {
      if (!failure) {
        failure = { error: outcome.error };
        o.onFailure?.(outcome.error);
      }
      i += 1;
      continue;
    }
    const goto = outcome.result?.goto;
    if (goto && !failure) {
      const target = o.steps.findIndex((s) => s.name === goto);
      const taken = loops.get(goto) ?? 0;
      if (target >= 0 && taken < maxLoops) {
        loops.set(goto, taken + 1);
        await o.sink.emit({ type: 'step.loop', from: step.name, to: goto, round: taken + 2 });
        i = target;
        continue;
      }
    }
    i += 1;
  }
  if (failure) throw failure.error;
}

/** Runs one step with its retries; returns its outcome or the error it ended with. */
async function runOne<C>(
  o: RunStepsOptions<C>,
  step: StepSpec,
  impl: StepImpl<C>,
  afterFailure: boolean,
): Promise<{ result: StepOutcome | void } | { error: unknown }> {
  await o.onStep?.(step.name, 'running');
  await o.sink.emit({ type: 'step.started', step: step.name });
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await impl.run(o.ctx, step);
      await o.sink.emit({
        type: 'step.completed',
        step: step.name,
        durationMs: Date.now() - started,
        ...(result?.saved ? { saved: result.saved } : {}),
      });
      await o.onStep?.(step.name, 'done');
      return { result };
    } catch (err) {
      // Clean-up steps after a failure run once even when cancelled; they are not retried.
      const retryable =
        !afterFailure && !o.signal.aborted && !(err instanceof StepFailedError && !err.retryable);
      if (!retryable || attempt >= (step.retries ?? 0)) {
        await o.sink.emit({
          type: 'step.failed',
          step: step.name,
          durationMs: Date.now() - started,
          error: err instanceof Error ? err.message : String(err),
        });
        await o.onStep?.(step.name, 'failed');
        return { error: err };
      }
      await o.sink.emit({ type: 'step.retry', step: step.name, attempt: attempt + 1, error: String(err) });
      await sleep(o.retryDelayMs?.(attempt + 1) ?? 1000 * (attempt + 1), o.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
