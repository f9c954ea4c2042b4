import type { Server } from 'node:http';
import type { Config } from '../config/load-config.js';
import { RunLedger } from '../ledger/index.js';
import { createGatewayApp, type GatewayDeps, type ReadinessCheck } from '../gateway/app.js';
import { createGatewayServer } from '../gateway/gateway-listener.js';
import { mountDashboard } from '../gateway/dashboard/mount-dashboard.js';
import { sessionSecret } from '../gateway/dashboard/sessions.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { createGatewayMetrics } from '../gateway/metrics.js';
import { createWebhookVerifier } from '../github/verify-webhook.js';
import { createIntakeWriter } from '../queue/intake-writer.js';
import { createQueues, queueDepths } from '../queue/queues.js';
import { openRedis } from '../queue/redis-connection.js';
import type { Logger } from '../util/logger.js';
import { traceDeliveries } from '../telemetry/trace-deliveries.js';
import type { Tracer } from '@opentelemetry/api';
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
  /**
   * Extra `/readyz` checks. Keep it to what receiving webhooks needs (Redis, always checked):
   * GitHub reachability is the worker's readiness and `doctor`'s, not the gateway's.
   */
  readonly readiness?: readonly ReadinessCheck[];
  /** A span per webhook delivery (`OTEL_EXPORTER_OTLP_ENDPOINT`); absent: no per-request cost. */
  readonly tracer?: Tracer;
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
  const intake = createIntakeWriter(redis, queues);
  const deps: GatewayDeps = {
    verifier: createWebhookVerifier(secret),
    intake,
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
      const dash = o.config.dashboard;
      const github =
        dash.oauth && o.config.github.auth
          ? createGitHubHost(o.config.github, { logger: o.logger })
          : undefined;
      const webUrl = gitBaseUrl(o.config.github.apiUrl);
      mountDashboard(app, {
        ledger: new RunLedger(redis, o.config.queuePrefix),
        logger: o.logger,
        webUrl,
        signIn: {
          token: dash.token,
          oauth: dash.oauth && { ...dash.oauth, webUrl, apiUrl: o.config.github.apiUrl },
          secret: sessionSecret(secret, dash.token, dash.oauth?.clientSecret),
          publicUrl: o.config.publicUrl,
        },
        password: o.config.dashboardPassword,
        permission: github && ((repo, login) => github.getPermission(repo, login)),
        submitCommand: (job) => intake.submit(job),
        commandPrefix: o.config.commandPrefix,
        adminLogin: o.config.github.botLogin ?? 'droidworks',
        queues,
      });
    },
  };
  const app = createGatewayApp(deps);
  let server: Server;
  try {
    server = await new Promise((resolve, reject) => {
      // A traced delivery needs node's request and response events: the lane is off with tracing.
      const s = createGatewayServer(app, deps, { webhookLane: o.config.webhookLane && !o.tracer });
      s.listen(o.config.http.port, o.config.http.host, () => resolve(s));
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
  if (o.tracer) traceDeliveries(server, o.tracer);
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
