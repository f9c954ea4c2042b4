import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { Redis } from 'ioredis';
import { createProcessSandboxProvider } from '../sandbox/process-sandbox-provider.js';
import { createLogger } from '../util/logger.js';
import { RunLedger, type RunEvent } from '../ledger/index.js';
import { createRunMetrics, meteredLedger, meteredSandboxes } from './run-metrics.js';

/** The samples of a metric, histogram series named (`…_bucket`, `…_sum`, `…_count`). */
async function series(
  registry: Registry,
  name: string,
): Promise<
  Array<{ metricName?: string; labels: Record<string, string | number | undefined>; value: number }>
> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values;
}

/** The value of one series, or undefined when it has no sample. */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return match?.value;
}

describe('createRunMetrics: what ledger events count', () => {
  const t0 = 1_700_000_000_000;
  const cases: Array<{
    what: string;
    events: Array<RunEvent & { at?: number }>;
    queuedAt?: number;
    expect: Array<[string, Record<string, string>, number | undefined]>;
  }> = [
    {
      what: 'a run that starts and succeeds',
      events: [
        { type: 'run.started', workflow: 'resolve-issue', attempt: 1, resumed: false, at: t0 },
        { type: 'run.finished', status: 'succeeded', tokens: 0, costUsd: 0, at: t0 + 42_000 },
      ],
      queuedAt: t0 - 1500,
      expect: [
        ['droidworks_runs_started_total', { workflow: 'resolve-issue' }, 1],
        ['droidworks_runs_finished_total', { workflow: 'resolve-issue', outcome: 'succeeded' }, 1],
        ['droidworks_run_duration_seconds_sum', { workflow: 'resolve-issue', outcome: 'succeeded' }, 42],
        ['droidworks_queue_wait_seconds_sum', { workflow: 'resolve-issue' }, 1.5],
      ],
    },
    {
      what: 'a retried attempt: started again, no second queue wait',
      events: [{ type: 'run.started', workflow: 'pr-command', attempt: 2, resumed: true, at: t0 }],
      queuedAt: t0 - 60_000,
      expect: [
        ['droidworks_runs_started_total', { workflow: 'pr-command' }, 1],
        ['droidworks_queue_wait_seconds_count', { workflow: 'pr-command' }, undefined],
      ],
    },
    {
      what: 'steps that complete and fail',
      events: [
        { type: 'step.completed', step: 'plan', durationMs: 2000 },
        { type: 'step.failed', step: 'test', durationMs: 500, error: 'x' },
      ],
      expect: [
        ['droidworks_step_duration_seconds_sum', { step: 'plan', outcome: 'completed' }, 2],
        ['droidworks_step_duration_seconds_count', { step: 'test', outcome: 'failed' }, 1],
      ],
    },
    {
      what: 'a model call with usage and cost, and one that failed',
      events: [
        {
          type: 'agent.model',
          role: 'coder',
          provider: 'openai',
          model: 'gpt-5.1',
          inputTokens: 1200,
          cachedInputTokens: 300,
          outputTokens: 80,
          costUsd: 0.0125,
          latencyMs: 900,
        },
        { type: 'agent.model', role: 'coder', error: 'boom', errorKind: 'overloaded' },
      ],
      expect: [
        ['droidworks_model_requests_total', { role: 'coder', provider: 'openai', outcome: 'ok' }, 1],
        ['droidworks_model_requests_total', { role: 'coder', outcome: 'error' }, 1],
        ['droidworks_model_tokens_total', { role: 'coder', kind: 'input' }, 1200],
        ['droidworks_model_tokens_total', { role: 'coder', kind: 'cached_input' }, 300],
        ['droidworks_model_tokens_total', { role: 'coder', kind: 'output' }, 80],
        ['droidworks_model_cost_usd_total', { role: 'coder', model: 'gpt-5.1' }, 0.0125],
        ['droidworks_model_errors_total', { role: 'coder', kind: 'overloaded' }, 1],
      ],
    },
    {
      what: 'a retry and a failover',
      events: [
        {
          type: 'model.retry',
          role: 'planner',
          model: 'anthropic:a',
          attempt: 1,
          delayMs: 10,
          error: 'slow down',
          errorKind: 'rate_limit',
        },
        {
          type: 'model.fallback',
          role: 'planner',
          from: 'anthropic:a',
          to: 'openai:b',
          error: 'overloaded',
          errorKind: 'overloaded',
        },
      ],
      expect: [
        ['droidworks_model_errors_total', { role: 'planner', kind: 'rate_limit' }, 1],
        ['droidworks_model_errors_total', { role: 'planner', kind: 'overloaded' }, 1],
        ['droidworks_model_failovers_total', { role: 'planner', from: 'anthropic:a', to: 'openai:b' }, 1],
      ],
    },
    {
      what: 'agent loops stopped by budgets, and one that finished',
      events: [finishedBy('max_cost'), finishedBy('max_cost'), finishedBy('timeout'), finishedBy('finished')],
      expect: [
        ['droidworks_budget_stops_total', { kind: 'cost' }, 2],
        ['droidworks_budget_stops_total', { kind: 'time' }, 1],
        ['droidworks_budget_stops_total', { kind: 'steps' }, undefined],
      ],
    },
    {
      what: 'deploys and rollbacks, by environment',
      events: [
        { type: 'deploy.started', environment: 'staging', sha: 'a1', deploymentId: 1, reused: false },
        { type: 'deploy.deployer', environment: 'staging', ok: true, summary: 'ok' },
        { type: 'deploy.succeeded', environment: 'staging', sha: 'a1', deploymentId: 1 },
        { type: 'deploy.deployer', environment: 'production', ok: true, summary: 'ok' },
        { type: 'deploy.health', environment: 'production', healthy: false, reason: 'HTTP 500' },
        { type: 'deploy.rollback', environment: 'production', result: 'restored', sha: 'a0' },
        { type: 'deploy.deployer', environment: 'production', ok: false, summary: 'hook failed' },
        { type: 'deploy.rollback', environment: 'production', result: 'no_previous_good' },
      ],
      expect: [
        ['droidworks_deploys_total', { environment: 'staging', outcome: 'succeeded' }, 1],
        ['droidworks_deploys_total', { environment: 'production', outcome: 'unhealthy' }, 1],
        ['droidworks_deploys_total', { environment: 'production', outcome: 'failed' }, 1],
        ['droidworks_deploys_total', { environment: 'staging', outcome: 'failed' }, undefined],
        ['droidworks_rollbacks_total', { environment: 'production', result: 'restored' }, 1],
        ['droidworks_rollbacks_total', { environment: 'production', result: 'no_previous_good' }, 1],
      ],
    },
  ];

  it.each(cases)('$what', async ({ events, queuedAt, expect: expected }) => {
    const metrics = createRunMetrics(new Registry());
    for (const e of events) metrics.observe('run-1', e, queuedAt);
    for (const [name, labels, v] of expected) {
      const base = name.replace(/_(sum|count)$/, '');
      const found = (await series(metrics.registry, base)).find(
        (s) =>
          (s.metricName ?? base) === name &&
          Object.entries(labels).every(([k, l]) => String(s.labels[k]) === l),
      );
      expect({ name, labels, value: found?.value }).toEqual({ name, labels, value: v });
    }
  });
});

describe('meteredLedger and meteredSandboxes (real Redis, real processes)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('counts events appended through append and sinks, with the queue wait read back from the ledger', async () => {
    const redis = new Redis(inject('redisUrl'));
    cleanup.push(async () => redis.disconnect());
    const prefix = `dw-metrics-${Date.now()}`;
    const metrics = createRunMetrics(new Registry());
    const ledger = meteredLedger(new RunLedger(redis, prefix), metrics);
    await ledger.append('r1', { type: 'run.queued', workflow: 'resolve-issue', by: 'alice' });
    await ledger
      .sink('r1')
      .emit({ type: 'run.started', workflow: 'resolve-issue', attempt: 1, resumed: false });
    await ledger.sink('r1').emit({ type: 'run.finished', status: 'failed', tokens: 0, costUsd: 0 });
    expect((await ledger.events('r1')).map((e) => e.type)).toEqual([
      'run.queued',
      'run.started',
      'run.finished',
    ]);
    expect(await value(metrics.registry, 'droidworks_runs_finished_total', { outcome: 'failed' })).toBe(1);
    const wait = (await series(metrics.registry, 'droidworks_queue_wait_seconds')).find(
      (v) => v.metricName === 'droidworks_queue_wait_seconds_count',
    );
    expect(wait?.value).toBe(1);
    await redis.del(`${prefix}:run:r1:events`, `${prefix}:run:r1:state`);
  });

  it('times acquisitions and commands and counts sandboxes held', async () => {
    const workRoot = await mkdtemp(join(tmpdir(), 'dw-metrics-'));
    cleanup.push(() => rm(workRoot, { recursive: true, force: true }));
    const config = loadConfig({ DROIDWORKS_SANDBOX: 'process' });
    const metrics = createRunMetrics(new Registry());
    const provider = meteredSandboxes(
      createProcessSandboxProvider(config.sandbox, { logger: createLogger({ level: 'silent' }), workRoot }),
      metrics,
    );
    cleanup.push(() => provider.close());
    const sandbox = await provider.acquire({ runId: 'r2' });
    expect(await value(metrics.registry, 'droidworks_sandbox_containers', { backend: 'process' })).toBe(1);
    expect((await sandbox.exec('exit 3')).exitCode).toBe(3);
    expect((await sandbox.exec('true')).exitCode).toBe(0);
    await sandbox.release();
    await sandbox.release();
    expect(await value(metrics.registry, 'droidworks_sandbox_containers', { backend: 'process' })).toBe(0);
    const commands = await series(metrics.registry, 'droidworks_sandbox_command_seconds');
    const count = (outcome: string) =>
      commands.find(
        (v) => v.metricName === 'droidworks_sandbox_command_seconds_count' && v.labels.outcome === outcome,
      )?.value;
    expect([count('ok'), count('nonzero')]).toEqual([1, 1]);
    const acquired = await series(metrics.registry, 'droidworks_sandbox_acquire_seconds');
    expect(
      acquired.find(
        (v) => v.metricName === 'droidworks_sandbox_acquire_seconds_count' && v.labels.outcome === 'ok',
      )?.value,
    ).toBe(1);
  });
});

function finishedBy(reason: string): RunEvent {
  return {
    type: 'agent.finished',
    reason,
    steps: 1,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    costUsd: 0,
    costKnown: true,
    durationMs: 1,
  };
}
