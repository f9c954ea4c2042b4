import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../config/load-config.js';
import { RunLedger } from '../engine/ledger.js';
import { createGatewayApp, type ReadinessCheck } from '../gateway/app.js';
import { mountDashboard } from '../gateway/dashboard.js';
import { dashboardGuard } from '../gateway/dashboard-guard.js';
import { createGatewayMetrics } from '../gateway/metrics.js';
import { createWebhookVerifier } from '../github/verify-webhook.js';
import { createIntakeWriter } from '../queue/intake-writer.js';
import { createQueues, queueDepths } from '../queue/queues.js';
import { openRedis } from '../queue/redis-connection.js';
import type { Logger } from '../util/logger.js';
import { gitBaseUrl } from './context.js';

/** The gateway's port is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Port ${port} on ${host} is already in use (PORT, HOST): stop what listens there or set PORT to a free port.`,
      options,
    );
  }
}

export interface RunningGateway {
  readonly url: string;
  close(): Promise<void>;
}

export interface ServeGatewayOptions {
  readonly config: Config;
  readonly redisUrl: string;
  readonly logger: Logger;
  /** Extra readiness checks (GitHub auth). */
  readonly readiness?: readonly ReadinessCheck[];
}

/**
 * Starts the webhook gateway's HTTP server, once its Redis connection is ready (so every delivery
 * it accepts can be stored); a `RedisUnreachableError` when Redis does not answer.
 */
export async function serveGateway(o: ServeGatewayOptions): Promise<RunningGateway> {
  const secret = o.config.github.webhookSecret;
  if (!secret) throw new Error('GITHUB_WEBHOOK_SECRET is required for the gateway');
  // Ready before the port opens: a producer connection refuses commands until then, so a delivery
  // arriving in between would be answered 503 and lost until the next redelivery sweep.
  const redis = await openRedis(o.redisUrl, {
    role: 'producer',
    onError: (err) => o.logger.warn({ err: err.message }, 'gateway redis connection error'),
  });
  const queues = createQueues(redis, o.config.queuePrefix);
  const metrics = createGatewayMetrics({ collectDefaults: true });
  const app = createGatewayApp({
    verifier: createWebhookVerifier(secret),
    intake: createIntakeWriter(redis, queues),
    settings: {
      triggerLabel: o.config.triggerLabel,
      commandPrefix: o.config.commandPrefix,
      botLogin: o.config.github.botLogin,
    },
    logger: o.logger.child({ component: 'gateway' }),
    metrics,
    readiness: [{ name: 'redis', check: async () => void (await redis.ping()) }, ...(o.readiness ?? [])],
    beforeScrape: async () => {
      for (const d of await queueDepths(queues))
        metrics.queueDepth.set({ queue: d.queue, state: d.state }, d.count);
    },
    mount: (app) => {
      const guard = dashboardGuard(o.config.dashboardPassword);
      for (const path of ['/runs', '/runs/*', '/api/runs', '/api/runs/*']) app.use(path, guard);
      mountDashboard(app, {
        ledger: new RunLedger(redis, o.config.queuePrefix),
        logger: o.logger,
        webUrl: gitBaseUrl(o.config.github.apiUrl),
      });
    },
  });
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: o.config.http.port, hostname: o.config.http.host }, () =>
        resolve(s),
      );
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new PortInUseError(o.config.http.host, o.config.http.port, { cause: err })
            : err,
        ),
      );
    });
  } catch (err) {
    await queues.close();
    redis.disconnect();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.config.http.port;
  const host = o.config.http.host === '0.0.0.0' ? '127.0.0.1' : o.config.http.host;
  const url = `http://${host}:${port}`;
  o.logger.info({ url: `${url}/webhooks/github` }, 'gateway listening');
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      redis.disconnect();
    },
  };
}
