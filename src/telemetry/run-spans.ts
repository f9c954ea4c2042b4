import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { RunServices } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import type { ModelRouter } from '../models/router.js';
import type { RunJob } from '../queue/jobs.js';
import type { Sandbox, SandboxProvider } from '../sandbox/types.js';
import { redact } from '../util/redact.js';

/** The attribute every run, step, model and sandbox span carries. */
export const RUN_ID_ATTRIBUTE = 'droidworks.run.id';

/** The run a piece of work belongs to, carried in the OpenTelemetry context (model calls know no run). */
const RUN_ID = createContextKey('droidworks.run.id');

/** Longest command text kept on a sandbox span. */
const COMMAND_CHARS = 200;

/**
 * Runs `fn` inside a span that ends when it settles. A thrown error is recorded (message redacted)
 * and rethrown unchanged.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: { parent?: Context; secrets?: readonly string[] } = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, options.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const message = redact(err instanceof Error ? err.message : String(err), options.secrets);
      span.recordException({ name: err instanceof Error ? err.name : 'Error', message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The run id of the run span `ctx` is inside, if any. */
export function runIdOf(ctx: Context = context.active()): string | undefined {
  const v = ctx.getValue(RUN_ID);
  return typeof v === 'string' ? v : undefined;
}

/**
 * One attempt of a run as a span (`run <workflow>`), the parent of its steps, model calls and
 * sandbox commands. `status` reads the run's status afterwards (from the ledger).
 */
export function traceRun<T>(
  tracer: Tracer,
  job: RunJob,
  attempt: number,
  fn: () => Promise<T>,
  status?: () => Promise<string | undefined>,
): Promise<T> {
  const attributes: Attributes = {
    [RUN_ID_ATTRIBUTE]: job.runId,
    'droidworks.workflow': job.workflow,
    'droidworks.repository': `${job.repo.owner}/${job.repo.name}`,
    'droidworks.subject': job.subject.number,
    'droidworks.run.attempt': attempt,
  };
  if (job.deliveryId) attributes['github.delivery'] = job.deliveryId;
  return inSpan(
    tracer,
    `run ${job.workflow}`,
    attributes,
    async (span) => {
      try {
        return await fn();
      } finally {
        // The status is only an attribute: an unreadable ledger must not change how the run ends.
        const s = await status?.().catch((err: unknown) => {
          span.setAttribute('droidworks.run.status_error', err instanceof Error ? err.message : String(err));
          return undefined;
        });
        if (s) span.setAttribute('droidworks.run.status', s);
        if (s === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: 'run failed' });
      }
    },
    // Each run attempt is its own trace; `github.delivery` joins it to the delivery's.
    { parent: ROOT_CONTEXT.setValue(RUN_ID, job.runId) },
  );
}

/** Step implementations whose every attempt is a span (`step <name>`). */
export function tracedSteps<C extends { readonly runId: string }>(
  impls: Readonly<Record<string, StepImpl<C>>>,
  tracer: Tracer,
  secrets: readonly string[] = [],
): Readonly<Record<string, StepImpl<C>>> {
  return Object.fromEntries(
    Object.entries(impls).map(([name, impl]) => [
      name,
      {
        ...impl,
        run: (ctx, step) =>
          inSpan(
            tracer,
            `step ${step.name}`,
            { [RUN_ID_ATTRIBUTE]: ctx.runId, 'droidworks.step': step.name },
            () => impl.run(ctx, step),
            { secrets },
          ),
      } satisfies StepImpl<C>,
    ]),
  );
}

/** The model router with each call (retries and fallbacks included) as a span (`model <role>`). */
export function tracedModels(
  router: ModelRouter,
  tracer: Tracer,
  secrets: readonly string[] = [],
): ModelRouter {
  return {
    complete(role, request, options) {
      const runId = runIdOf();
      return inSpan(
        tracer,
        `model ${role}`,
        { 'droidworks.model.role': role, ...(runId ? { [RUN_ID_ATTRIBUTE]: runId } : {}) },
        async (span) => {
          const r = await router.complete(role, request, options);
          span.setAttributes({
            'gen_ai.provider.name': r.provider,
            'gen_ai.request.model': r.model,
            'gen_ai.usage.input_tokens': r.usage.inputTokens + r.usage.cachedInputTokens,
            'gen_ai.usage.output_tokens': r.usage.outputTokens,
            'droidworks.model.attempts': r.attempts,
            ...(r.costUsd === null ? {} : { 'droidworks.model.cost_usd': r.costUsd }),
          });
          return r;
        },
        { secrets },
      );
    },
  };
}

/** The sandbox provider with acquisitions and commands as spans (`sandbox acquire`, `sandbox command`). */
export function tracedSandboxes(
  provider: SandboxProvider,
  tracer: Tracer,
  secrets: readonly string[] = [],
): SandboxProvider {
  const wrap = (sandbox: Sandbox): Sandbox => {
    const exec: Sandbox['exec'] = (command, options) =>
      inSpan(
        tracer,
        'sandbox command',
        {
          [RUN_ID_ATTRIBUTE]: sandbox.runId,
          'droidworks.sandbox.backend': sandbox.backend,
          // Commands run where no secret is; redacted all the same, like every other text we keep.
          'droidworks.command': redact(command, secrets).slice(0, COMMAND_CHARS),
        },
        async (span) => {
          const result = await sandbox.exec(command, options);
          span.setAttributes({
            'process.exit.code': result.exitCode,
            'droidworks.command.timed_out': result.timedOut,
            'droidworks.command.oom_killed': result.oomKilled,
          });
          if (result.exitCode !== 0)
            span.setStatus({ code: SpanStatusCode.ERROR, message: `exit code ${result.exitCode}` });
          return result;
        },
        { secrets },
      );
    return new Proxy(sandbox, {
      get(target, prop) {
        if (prop === 'exec') return exec;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return {
    acquire: (options) =>
      inSpan(
        tracer,
        'sandbox acquire',
        { [RUN_ID_ATTRIBUTE]: options.runId },
        async (span) => {
          const sandbox = await provider.acquire(options);
          span.setAttribute('droidworks.sandbox.backend', sandbox.backend);
          return wrap(sandbox);
        },
        { secrets },
      ),
    sweep: (isLive, signal) => provider.sweep(isLive, signal),
    close: () => provider.close(),
  };
}

/** `services` with model calls and sandboxes traced, and the tracer the engine uses for steps. */
export function withRunTracing(services: RunServices, tracer: Tracer): RunServices {
  return {
    ...services,
    tracer,
    models: tracedModels(services.models, tracer, services.secrets),
    sandboxes: tracedSandboxes(services.sandboxes, tracer, services.secrets),
  };
}
