import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { droidworksContainers, openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');

/** `name{labels} value` samples of a Prometheus text exposition. */
function samples(text: string): Array<{ name: string; labels: string; value: number }> {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)/.exec(l);
      return { name: m?.[1] ?? '', labels: m?.[2] ?? '', value: Number(m?.[3]) };
    });
}
const sum = (text: string, name: string, labels: RegExp = /.*/): number =>
  samples(text)
    .filter((s) => s.name === name && labels.test(s.labels))
    .reduce((a, s) => a + s.value, 0);

describeDocker('worker metrics', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  it('a real run shows up on the worker /metrics, and the Grafana dashboard queries only exported metrics', async () => {
    e2e = await startE2E(redisUrl, { env: { DROIDWORKS_WORKER_METRICS_PORT: '0' } });
    const { stack, logs } = e2e;
    const workerUrl = await waitFor('the worker metrics address in the log', () => {
      const line = logs.find((l) => l.includes('worker metrics listening'));
      return line ? (JSON.parse(line) as { url: string }).url.replace(/\/metrics$/, '') : undefined;
    });

    const ready = await fetch(`${workerUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Array<{ name: string }> }).checks.map((c) => c.name)).toEqual([
      'redis',
      'github',
    ]);
    const gatewayReady = (await (await fetch(`${stack.gateway.url}/readyz`)).json()) as {
      checks: Array<{ name: string }>;
    };
    expect(gatewayReady.checks.map((c) => c.name)).toEqual(['redis']);

    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.' });
    expect(await waitFor('the run to end', () => outcomeOf(stack, issue.number), 150_000)).toBe('droid:done');
    const worker = await waitFor('the run to be counted as finished', async () => {
      const text = await (await fetch(`${workerUrl}/metrics`)).text();
      return sum(text, 'droidworks_runs_finished_total') >= 1 ? text : undefined;
    });

    expect(sum(worker, 'droidworks_runs_started_total', /workflow="resolve-issue"/)).toBe(1);
    expect(sum(worker, 'droidworks_runs_finished_total', /outcome="succeeded"/)).toBe(1);
    expect(sum(worker, 'droidworks_run_duration_seconds_count')).toBe(1);
    expect(sum(worker, 'droidworks_queue_wait_seconds_count')).toBe(1);
    expect(sum(worker, 'droidworks_step_duration_seconds_count', /step="code",outcome="completed"/)).toBe(1);
    expect(sum(worker, 'droidworks_model_requests_total', /role="coder",provider="openai"/)).toBeGreaterThan(
      0,
    );
    expect(sum(worker, 'droidworks_model_tokens_total', /kind="input"/)).toBeGreaterThan(0);
    expect(sum(worker, 'droidworks_sandbox_acquire_seconds_count', /backend="docker",outcome="ok"/)).toBe(1);
    expect(sum(worker, 'droidworks_sandbox_command_seconds_count', /backend="docker"/)).toBeGreaterThan(0);
    expect(sum(worker, 'droidworks_sandbox_containers')).toBe(0);
    expect(await droidworksContainers(stack)).toEqual([]);

    const gateway = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    const exported = new Set([...`${worker}\n${gateway}`.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const dashboard = JSON.parse(
      readFileSync(
        join(import.meta.dirname, '..', '..', 'infra', 'grafana', 'droidworks-dashboard.json'),
        'utf8',
      ),
    ) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const queried = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) =>
        [...t.expr.matchAll(/\bdroidworks_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter((m) => !exported.has(m))).toEqual([]);
  });
});
