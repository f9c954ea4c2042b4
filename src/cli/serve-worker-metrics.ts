import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Logger } from '../util/logger.js';

/** A dependency the worker's `/readyz` checks; throws when it is not ready. */
export interface WorkerReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface WorkerMetricsServer {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The worker's own small HTTP server (`DROIDWORKS_WORKER_METRICS_PORT`): `/metrics` (runs, steps,
 * models, sandboxes), `/healthz` (the process answers) and `/readyz` (Redis and GitHub reachable:
 * what running a workflow needs). Not meant to face the internet.
 */
export async function serveWorkerMetrics(o: {
  readonly registry: Registry;
  readonly port: number;
  readonly host: string;
  readonly readiness: readonly WorkerReadinessCheck[];
  readonly logger: Logger;
}): Promise<WorkerMetricsServer> {
  const app = new Hono();
  app.get('/metrics', async (c) =>
    c.text(await o.registry.metrics(), 200, { 'content-type': o.registry.contentType }),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await Promise.all(
      o.readiness.map(async (r) => {
        try {
          await r.check(AbortSignal.timeout(3000));
          return { name: r.name, ok: true as const };
        } catch (err) {
          return {
            name: r.name,
            ok: false as const,
            error: err instanceof Error ? err.message : String(err),
          };
        }
      }),
    );
    const ready = checks.every((r) => r.ok);
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port, hostname: o.host }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  o.logger.info({ url: `${url}/metrics` }, 'worker metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
