import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CommandResult, Sandbox, SandboxProvider } from '../sandbox/types.js';
import { unreachable, type RunEvent, type RunLedger } from '../ledger/index.js';
import type { RunServices } from './run-context.js';

/**
 * Prometheus metrics of runs, on a registry the caller owns (the worker's `/metrics`). They are a
 * view of the run ledger, like the progress comment: every event a run appends goes through
 * {@link RunMetrics.observe}; the sandbox, which writes no events, is timed by a wrapper.
 */
export interface RunMetrics {
  readonly registry: Registry;
  /** Counts what one ledger event says. `queuedAt`: when the run's job was queued, for `run.started`. */
  observe(runId: string, event: RunEvent & { readonly at?: number }, queuedAt?: number): void;
  readonly sandboxAcquire: Histogram<'backend' | 'outcome'>;
  readonly sandboxCommand: Histogram<'backend' | 'outcome'>;
  readonly containers: Gauge<'backend'>;
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Agent stop reasons that mean a budget ran out, by budget kind. */
const BUDGET_STOPS: Readonly<Record<string, string>> = {
  max_steps: 'steps',
  max_tokens: 'tokens',
  max_cost: 'cost',
  timeout: 'time',
};

export function createRunMetrics(registry: Registry): RunMetrics {
  const registers = [registry];
  const runsStarted = new Counter({
    name: 'droidworks_runs_started_total',
    help: 'Runs started (each attempt), by workflow.',
    labelNames: ['workflow'],
    registers,
  });
  const runsFinished = new Counter({
    name: 'droidworks_runs_finished_total',
    help: 'Runs finished, by workflow and outcome (succeeded, failed, cancelled).',
    labelNames: ['workflow', 'outcome'],
    registers,
  });
  const runDuration = new Histogram({
    name: 'droidworks_run_duration_seconds',
    help: 'Time from a run starting on a worker to its end, by workflow and outcome.',
    labelNames: ['workflow', 'outcome'],
    buckets: SECONDS,
    registers,
  });
  const stepDuration = new Histogram({
    name: 'droidworks_step_duration_seconds',
    help: 'Duration of workflow steps, by step kind and outcome (completed, failed).',
    labelNames: ['step', 'outcome'],
    buckets: SECONDS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'droidworks_queue_wait_seconds',
    help: 'Time a run waited between being queued and starting on a worker (first attempts), by workflow.',
    labelNames: ['workflow'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const modelRequests = new Counter({
    name: 'droidworks_model_requests_total',
    help: 'Model requests of the agent, by role, provider, model and outcome (ok, error).',
    labelNames: ['role', 'provider', 'model', 'outcome'],
    registers,
  });
  const modelTokens = new Counter({
    name: 'droidworks_model_tokens_total',
    help: 'Model tokens, by role, provider, model and kind (input, cached_input, output).',
    labelNames: ['role', 'provider', 'model', 'kind'],
    registers,
  });
  const modelCost = new Counter({
    name: 'droidworks_model_cost_usd_total',
    help: 'Model cost in US dollars (from the price table; unknown prices count 0), by role, provider and model.',
    labelNames: ['role', 'provider', 'model'],
    registers,
  });
  const modelLatency = new Histogram({
    name: 'droidworks_model_request_seconds',
    help: 'Model request latency including retries, by provider and model.',
    labelNames: ['provider', 'model'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160],
    registers,
  });
  const modelErrors = new Counter({
    name: 'droidworks_model_errors_total',
    help: 'Model errors, by role and kind (rate_limit, overloaded, timeout, …); retried ones included.',
    labelNames: ['role', 'kind'],
    registers,
  });
  const failovers = new Counter({
    name: 'droidworks_model_failovers_total',
    help: 'Switches to the next model of a role after an outage, by role, from and to (provider:model).',
    labelNames: ['role', 'from', 'to'],
    registers,
  });
  const budgetStops = new Counter({
    name: 'droidworks_budget_stops_total',
    help: 'Agent loops stopped by a run budget, by kind (steps, tokens, cost, time).',
    labelNames: ['kind'],
    registers,
  });
  const deploys = new Counter({
    name: 'droidworks_deploys_total',
    help: 'Deploys to an environment, by environment and outcome (succeeded, failed, unhealthy).',
    labelNames: ['environment', 'outcome'],
    registers,
  });
  const rollbacks = new Counter({
    name: 'droidworks_rollbacks_total',
    help: 'Rollbacks of an environment, by environment and result (restored, failed, no_previous_good).',
    labelNames: ['environment', 'result'],
    registers,
  });
  const sandboxAcquire = new Histogram({
    name: 'droidworks_sandbox_acquire_seconds',
    help: 'Time to get a sandbox for a run (warm pool or new container), by backend and outcome.',
    labelNames: ['backend', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const sandboxCommand = new Histogram({
    name: 'droidworks_sandbox_command_seconds',
    help: 'Commands run in sandboxes, by backend and outcome (ok, nonzero, timeout, oom, error).',
    labelNames: ['backend', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
    registers,
  });
  const containers = new Gauge({
    name: 'droidworks_sandbox_containers',
    help: 'Sandboxes held by runs on this worker right now, by backend.',
    labelNames: ['backend'],
    registers,
  });

  /** Deploy outcomes and rollbacks, by environment (`deploy.*` events of deploy runs). */
  const observeDeploy = (e: RunEvent): void => {
    if (e.type === 'deploy.succeeded')
      deploys.inc({ environment: text(e.environment), outcome: 'succeeded' });
    else if (e.type === 'deploy.deployer' && e.ok === false)
      deploys.inc({ environment: text(e.environment), outcome: 'failed' });
    else if (e.type === 'deploy.health' && e.healthy === false)
      deploys.inc({ environment: text(e.environment), outcome: 'unhealthy' });
    else if (e.type === 'deploy.rollback')
      rollbacks.inc({ environment: text(e.environment), result: text(e.result) });
  };

  /** Per run on this worker: its workflow and when it started (for the run's duration). */
  const live = new Map<string, { workflow: string; startedAt: number }>();
  const text = (v: unknown, fallback = 'unknown'): string => (typeof v === 'string' && v ? v : fallback);
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

  return {
    registry,
    sandboxAcquire,
    sandboxCommand,
    containers,
    observe(runId, e, queuedAt) {
      const at = e.at ?? Date.now();
      observeDeploy(e);
      switch (e.type) {
        case 'run.started': {
          const workflow = text(e.workflow);
          live.set(runId, { workflow, startedAt: at });
          runsStarted.inc({ workflow });
          if (queuedAt !== undefined && e.attempt === 1 && e.resumed !== true)
            queueWait.observe({ workflow }, Math.max(0, at - queuedAt) / 1000);
          return;
        }
        case 'run.finished': {
          const run = live.get(runId);
          live.delete(runId);
          const workflow = run?.workflow ?? 'unknown';
          const outcome = text(e.status);
          runsFinished.inc({ workflow, outcome });
          if (run) runDuration.observe({ workflow, outcome }, (at - run.startedAt) / 1000);
          return;
        }
        case 'step.completed':
        case 'step.failed':
          stepDuration.observe(
            { step: text(e.step), outcome: e.type === 'step.completed' ? 'completed' : 'failed' },
            num(e.durationMs) / 1000,
          );
          return;
        case 'agent.model': {
          const role = text(e.role);
          if (typeof e.error === 'string') {
            modelRequests.inc({ role, provider: 'unknown', model: 'unknown', outcome: 'error' });
            modelErrors.inc({ role, kind: text(e.errorKind, 'other') });
            return;
          }
          const labels = { role, provider: text(e.provider), model: text(e.model) };
          modelRequests.inc({ ...labels, outcome: 'ok' });
          modelTokens.inc({ ...labels, kind: 'input' }, num(e.inputTokens));
          modelTokens.inc({ ...labels, kind: 'cached_input' }, num(e.cachedInputTokens));
          modelTokens.inc({ ...labels, kind: 'output' }, num(e.outputTokens));
          modelCost.inc(labels, num(e.costUsd));
          modelLatency.observe({ provider: labels.provider, model: labels.model }, num(e.latencyMs) / 1000);
          return;
        }
        case 'model.retry':
          modelErrors.inc({ role: text(e.role), kind: text(e.errorKind, 'other') });
          return;
        case 'model.fallback':
          modelErrors.inc({ role: text(e.role), kind: text(e.errorKind, 'other') });
          failovers.inc({ role: text(e.role), from: text(e.from), to: text(e.to) });
          return;
        case 'agent.finished': {
          const kind = BUDGET_STOPS[text(e.reason)];
          if (kind) budgetStops.inc({ kind });
          return;
        }
        case 'run.queued':
        case 'run.retrying':
        case 'run.waiting':
        case 'run.cancel_requested':
        case 'step.started':
        case 'step.resumed':
        case 'step.retry':
        case 'step.loop':
        case 'plan':
        case 'plan.approved':
        case 'agent.started':
        case 'agent.nudge':
        case 'agent.tool':
        case 'install':
        case 'tests':
        case 'tests.skipped':
        case 'review':
        case 'pushed':
        case 'pull_request':
        case 'stale_branches':
        case 'flaky_tests':
        case 'dependency_updates':
          return; // not measured (yet)
        case 'deploy.gate':
        case 'deploy.approved':
        case 'deploy.superseded':
        case 'deploy.started':
        case 'deploy.deployer':
        case 'deploy.health':
        case 'deploy.succeeded':
        case 'deploy.rollback':
        case 'deploy.rollback.called':
        case 'deploy.incident':
          return; // counted by observeDeploy above
        default:
          return unreachable(e, undefined);
      }
    },
  };
}

/**
 * The ledger, with every appended event also counted by `metrics`. `run.started` reads the run's
 * `run.queued` event back for the queue wait (one stream read per run).
 */
export function meteredLedger(ledger: RunLedger, metrics: RunMetrics): RunLedger {
  const append = async (runId: string, event: RunEvent): Promise<string> => {
    const id = await ledger.append(runId, event);
    let queuedAt: number | undefined;
    if (event.type === 'run.started') {
      const queued = (await ledger.events(runId)).find((e) => e.type === 'run.queued');
      queuedAt = queued?.at;
    }
    metrics.observe(runId, { ...event, at: Date.now() }, queuedAt);
    return id;
  };
  return new Proxy(ledger, {
    get(target, prop) {
      if (prop === 'append') return append;
      if (prop === 'sink')
        return (runId: string) => ({ emit: async (event: RunEvent) => void (await append(runId, event)) });
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The sandbox provider, with acquisitions, commands and sandboxes held measured by `metrics`. */
export function meteredSandboxes(provider: SandboxProvider, metrics: RunMetrics): SandboxProvider {
  const wrap = (sandbox: Sandbox): Sandbox => {
    const backend = sandbox.backend;
    let released = false;
    const exec: Sandbox['exec'] = async (command, options) => {
      const started = performance.now();
      let result: CommandResult | undefined;
      try {
        result = await sandbox.exec(command, options);
        return result;
      } finally {
        const outcome = !result
          ? 'error'
          : result.timedOut
            ? 'timeout'
            : result.oomKilled
              ? 'oom'
              : result.exitCode === 0
                ? 'ok'
                : 'nonzero';
        metrics.sandboxCommand.observe({ backend, outcome }, (performance.now() - started) / 1000);
      }
    };
    const release: Sandbox['release'] = async () => {
      if (!released) {
        released = true;
        metrics.containers.dec({ backend });
      }
      await sandbox.release();
    };
    return new Proxy(sandbox, {
      get(target, prop) {
        if (prop === 'exec') return exec;
        if (prop === 'release') return release;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return {
    async acquire(options) {
      const started = performance.now();
      const seconds = (): number => (performance.now() - started) / 1000;
      let sandbox: Sandbox;
      try {
        sandbox = await provider.acquire(options);
      } catch (err) {
        metrics.sandboxAcquire.observe({ backend: 'unknown', outcome: 'error' }, seconds());
        throw err;
      }
      metrics.sandboxAcquire.observe({ backend: sandbox.backend, outcome: 'ok' }, seconds());
      metrics.containers.inc({ backend: sandbox.backend });
      return wrap(sandbox);
    },
    sweep: (isLive, signal) => provider.sweep(isLive, signal),
    close: () => provider.close(),
  };
}

/** `services` with the ledger and the sandboxes measured (the worker's one hook). */
export function withRunMetrics(services: RunServices, metrics: RunMetrics): RunServices {
  return {
    ...services,
    ledger: meteredLedger(services.ledger, metrics),
    sandboxes: meteredSandboxes(services.sandboxes, metrics),
  };
}
