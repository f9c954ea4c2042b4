import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import {
  answerRejection,
  createDeliveryHandler,
  decideRejection,
  MAX_WEBHOOK_BYTES,
  tooLarge,
  WEBHOOK_PATH,
  WebhookRejected,
  type DeliveryDeps,
} from './handle-delivery.js';

export { MAX_WEBHOOK_BYTES, WEBHOOK_PATH } from './handle-delivery.js';

/** A dependency `/readyz` checks; throws when it is not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface GatewayDeps extends DeliveryDeps {
  readonly readiness?: readonly ReadinessCheck[];
  /** Called before each `/metrics` scrape (e.g. to refresh queue depth gauges). */
  readonly beforeScrape?: () => Promise<void>;
  /** Extra routes (dashboard, API) mounted on the same app. */
  readonly mount?: (app: Hono) => void;
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;

/**
 * The Hono app: `POST /webhooks/github`, `/healthz`, `/readyz`, `/metrics`. It makes no GitHub or
 * model call: a delivery is verified, routed, written to Redis, and answered. On a node server,
 * `createGatewayListener` (gateway-listener.ts) answers the webhook route without Hono (same
 * handler, same statuses) and hands every other request to this app.
 */
export function createGatewayApp(deps: GatewayDeps): Hono {
  const app = new Hono();
  const { metrics } = deps;
  const handle = createDeliveryHandler(deps);

  const refuseLarge = (): never => {
    throw tooLarge();
  };
  const streamingLimit = bodyLimit({ maxSize: MAX_WEBHOOK_BYTES, onError: refuseLarge });

  app.post(
    WEBHOOK_PATH,
    (c, next) => {
      // With a Content-Length (GitHub always sends one) the header decides, as bodyLimit would, but
      // without touching `c.req.raw.body`: that would make @hono/node-server build a web stream.
      const length = c.req.header('content-length');
      if (length !== undefined && c.req.header('transfer-encoding') === undefined)
        return parseInt(length, 10) > MAX_WEBHOOK_BYTES ? refuseLarge() : next();
      // Chunked bodies are counted while streaming and refused at the limit.
      return streamingLimit(c, next);
    },
    async (c) => {
      const started = performance.now();
      const raw = new Uint8Array(await c.req.arrayBuffer());
      const answer = await handle(
        {
          event: c.req.header('x-github-event'),
          deliveryId: c.req.header('x-github-delivery'),
          signature: c.req.header('x-hub-signature-256'),
          contentType: c.req.header('content-type'),
        },
        raw,
        started,
      );
      return c.body(answer.body, answer.status as ContentfulStatusCode, JSON_TYPE);
    },
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      (deps.readiness ?? []).map(async (r) => {
        try {
          await withTimeout(r.check(), 3000);
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
    const ready = results.every((r) => r.ok);
    return c.json({ status: ready ? 'ready' : 'not ready', checks: results }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    await deps.beforeScrape?.();
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });

  deps.mount?.(app);

  app.notFound((c) => c.json({ error: 'not found' }, 404));

  app.onError((err, c) => {
    if (err instanceof HTTPException && !(err instanceof WebhookRejected)) return err.getResponse();
    const answer = answerRejection(deps.logger, decideRejection(err), c.req.header('x-github-delivery'), err);
    return c.body(answer.body, answer.status as ContentfulStatusCode, JSON_TYPE);
  });

  return app;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
