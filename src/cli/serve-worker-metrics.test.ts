import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../util/logger.js';
import { serveWorkerMetrics, type WorkerMetricsServer } from './serve-worker-metrics.js';

describe('serveWorkerMetrics (real HTTP)', () => {
  let server: WorkerMetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(readiness: Parameters<typeof serveWorkerMetrics>[0]['readiness']) {
    const registry = new Registry();
    new Counter({ name: 'droidworks_test_total', help: 'a test counter', registers: [registry] }).inc(3);
    server = await serveWorkerMetrics({
      registry,
      port: 0,
      host: '127.0.0.1',
      readiness,
      logger: createLogger({ level: 'silent' }),
    });
    return server.url;
  }

  it('serves the registry on /metrics and answers /healthz', async () => {
    const url = await start([]);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain('droidworks_test_total 3');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it.each([
    ['every check passes', [true], 200, 'ready'],
    ['GitHub is unreachable', [false], 503, 'not ready'],
  ] as const)('/readyz when %s', async (_what, oks, status, word) => {
    const url = await start([
      { name: 'redis', check: async () => undefined },
      {
        name: 'github',
        check: async () => {
          if (!oks[0]) throw new Error('getaddrinfo ENOTFOUND api.github.com');
        },
      },
    ]);
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(status);
    const body = (await res.json()) as {
      status: string;
      checks: Array<{ name: string; ok: boolean; error?: string }>;
    };
    expect(body.status).toBe(word);
    expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
      ['redis', true],
      ['github', oks[0]],
    ]);
    if (!oks[0]) expect(body.checks[1]?.error).toMatch(/ENOTFOUND/);
  });
});
