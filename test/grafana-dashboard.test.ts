import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRunMetrics } from '../src/engine/run-metrics.js';
import { createGatewayMetrics } from '../src/gateway/metrics.js';

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: Array<{ readonly expr: string }>;
}

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'infra', 'grafana', 'droidworks-dashboard.json'), 'utf8'),
) as { panels: Panel[] };

/** Metric names a PromQL expression reads, histogram series mapped to their metric. */
function queriedMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bdroidworks_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

/** Every metric name the gateway and a worker export (what their `/metrics` declare). */
async function exported(): Promise<Set<string>> {
  const text =
    (await createRunMetrics(new Registry()).registry.metrics()) +
    (await createGatewayMetrics().registry.metrics());
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
}

describe('the Grafana dashboard (infra/grafana/droidworks-dashboard.json)', () => {
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('queries only metrics droidworks exports', async () => {
    const names = await exported();
    const missing = panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) =>
        queriedMetrics(t.expr)
          .filter((m) => !names.has(m))
          .map((m) => `${p.title}: ${m}`),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('shows every run metric the worker exports', async () => {
    const run = await createRunMetrics(new Registry()).registry.getMetricsAsJSON();
    const queried = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => queriedMetrics(t.expr))));
    expect(run.map((m) => m.name).filter((n) => !queried.has(n))).toEqual([]);
  });

  it('has a query in every panel', () => {
    expect(panels.filter((p) => (p.targets ?? []).length === 0).map((p) => p.title)).toEqual([]);
  });

  it.each([
    ['sum(rate(droidworks_runs_started_total[5m]))', ['droidworks_runs_started_total']],
    [
      'histogram_quantile(0.9, sum by (le) (rate(droidworks_step_duration_seconds_bucket[5m])))',
      ['droidworks_step_duration_seconds'],
    ],
    ['droidworks_a_count / droidworks_b_sum', ['droidworks_a', 'droidworks_b']],
  ])('queriedMetrics(%s)', (expr, names) => {
    expect(queriedMetrics(expr)).toEqual(names);
  });
});
