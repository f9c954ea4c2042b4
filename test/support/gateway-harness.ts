import { createHmac, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { createGatewayApp } from '../../src/gateway/app.js';
import { createGatewayServer } from '../../src/gateway/gateway-listener.js';
import { createGatewayMetrics, type GatewayMetrics } from '../../src/gateway/metrics.js';
import type { RouteSettings } from '../../src/gateway/route-event.js';
import { createWebhookVerifier } from '../../src/github/verify-webhook.js';
import { createIntakeWriter } from '../../src/queue/intake-writer.js';
import { createQueues, type Queues } from '../../src/queue/queues.js';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { createLogger } from '../../src/util/logger.js';

export const WEBHOOK_SECRET = 'test-webhook-secret';

export interface GatewayHarness {
  readonly url: string;
  /** The Hono app behind the server (`app.request()` skips the node fast path). */
  readonly app: Hono;
  readonly queues: Queues;
  readonly redis: Redis;
  readonly metrics: GatewayMetrics;
  readonly logs: string[];
  readonly prefix: string;
  close(): Promise<void>;
}

/** The real gateway on a loopback port, writing to a real Redis under a prefix of its own. */
export async function startGateway(
  redisUrl: string,
  settings: Partial<RouteSettings> = {},
): Promise<GatewayHarness> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const redis = createRedisConnection(redisUrl, { role: 'producer' });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const queues = createQueues(redis, prefix);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  });
  const metrics = createGatewayMetrics();
  const deps = {
    verifier: createWebhookVerifier(WEBHOOK_SECRET),
    intake: createIntakeWriter(redis, queues),
    settings: { triggerLabel: 'droid', commandPrefix: '/droid', botLogin: 'droidworks[bot]', ...settings },
    logger,
    metrics,
    readiness: [{ name: 'redis', check: async () => void (await redis.ping()) }],
  };
  // The gateway as `droidworks gateway` serves it: the node fast path for webhooks, Hono for the rest.
  const app = createGatewayApp(deps);
  const server: Server = createGatewayServer(app, deps);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    queues,
    redis,
    metrics,
    logs,
    prefix,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (redis.status === 'ready') {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      await queues.close();
      redis.disconnect();
    },
  };
}

export interface Delivery {
  readonly event: string;
  readonly payload: unknown;
  readonly deliveryId?: string;
  /** Overrides for the default headers; `null` removes one. */
  readonly headers?: Record<string, string | null>;
  /** Raw body to send instead of JSON of payload. */
  readonly body?: string | Buffer;
  /** Sign this text instead of the body. */
  readonly signBody?: string;
}

/** Sends a delivery signed like GitHub does. */
export async function deliver(url: string, d: Delivery): Promise<Response> {
  const body = d.body ?? JSON.stringify(d.payload);
  // Signed as GitHub signs: HMAC-SHA256 of the raw body with the shared secret.
  const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET)
    .update(d.signBody ?? body)
    .digest('hex')}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.deliveryId ?? randomUUID(),
    'x-hub-signature-256': signature,
    'user-agent': 'GitHub-Hookshot/test',
  };
  for (const [k, v] of Object.entries(d.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  return fetch(`${url}/webhooks/github`, { method: 'POST', headers, body });
}

/** A minimal payload of the shape GitHub sends. */
export function issuePayload(overrides: {
  action?: string;
  label?: string;
  sender?: { login: string; type?: string };
  number?: number;
}): Record<string, unknown> {
  return {
    action: overrides.action ?? 'labeled',
    label: { name: overrides.label ?? 'droid' },
    issue: { number: overrides.number ?? 7, title: 'Fix the adder', body: 'It adds wrong.' },
    repository: {
      id: 1,
      name: 'sample',
      full_name: 'acme/sample',
      owner: { login: 'acme' },
      default_branch: 'main',
    },
    sender: { login: 'alice', type: 'User', id: 10, ...overrides.sender },
    installation: { id: 99 },
  };
}

export function commentPayload(
  body: string,
  sender = { login: 'alice', type: 'User' },
): Record<string, unknown> {
  return {
    action: 'created',
    issue: { number: 7, title: 'Fix the adder' },
    comment: { id: 555, body, user: sender },
    repository: { id: 1, name: 'sample', full_name: 'acme/sample', owner: { login: 'acme' } },
    sender,
  };
}
