import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { WebhookVerifier } from '../github/verify-webhook.js';
import type { IntakeWriter } from '../queue/intake-writer.js';
import type { Logger } from '../util/logger.js';
import type { GatewayMetrics } from './metrics.js';
import { routeEvent, type RouteSettings } from './route-event.js';

const utf8 = new TextDecoder();

/** GitHub's own payload cap; larger bodies are refused while still streaming. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** A dependency `/readyz` checks; throws when it is not ready. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface GatewayDeps {
  readonly verifier: WebhookVerifier;
  readonly intake: IntakeWriter;
  readonly settings: RouteSettings;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly readiness?: readonly ReadinessCheck[];
  /** Called before each `/metrics` scrape (e.g. to refresh queue depth gauges). */
  readonly beforeScrape?: () => Promise<void>;
  /** Extra routes (dashboard, API) mounted on the same app. */
  readonly mount?: (app: Hono<Env>) => void;
}

/** Thrown into `onError` with the status the delivery deserves. */
class WebhookRejected extends HTTPException {
  constructor(
    status: 400 | 401 | 413 | 415 | 503,
    readonly outcome: string,
    message: string,
    cause?: unknown,
  ) {
    super(status, { message, cause });
  }
}

/**
 * The Hono app: `POST /webhooks/github`, `/healthz`, `/readyz`, `/metrics`. It makes no GitHub or
 * model call: a delivery is verified, routed, written to Redis, and answered.
 */
type Env = { Variables: { done: (outcome: string) => void } };

export function createGatewayApp(deps: GatewayDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { metrics } = deps;

  const tooLarge = (): never => {
    throw new WebhookRejected(413, 'too_large', `body exceeds ${MAX_WEBHOOK_BYTES} bytes`);
  };
  const streamingLimit = bodyLimit({ maxSize: MAX_WEBHOOK_BYTES, onError: tooLarge });

  app.post(
    '/webhooks/github',
    (c, next) => {
      // With a Content-Length (GitHub always sends one) the header decides, as bodyLimit would, but
      // without touching `c.req.raw.body`: that would make @hono/node-server build a web stream
      // and lose its direct read of the request, which costs more than the rest of the delivery.
      const length = c.req.header('content-length');
      if (length !== undefined && c.req.header('transfer-encoding') === undefined)
        return parseInt(length, 10) > MAX_WEBHOOK_BYTES ? tooLarge() : next();
      // Chunked bodies are counted while streaming and refused at the limit.
      return streamingLimit(c, next);
    },
    async (c) => {
      const started = performance.now();
      const event = c.req.header('x-github-event');
      const deliveryId = c.req.header('x-github-delivery');
      const signature = c.req.header('x-hub-signature-256');
      // No child logger per delivery: the rare lines that are written carry deliveryId and event.
      const done = (outcome: string): void => {
        metrics.deliveries.inc({ event: event ?? 'unknown', outcome });
        metrics.intakeLatency.observe({ outcome }, (performance.now() - started) / 1000);
      };
      c.set('done', done);

      if (!signature) throw new WebhookRejected(401, 'unauthorized', 'missing X-Hub-Signature-256');
      if (!event || !deliveryId)
        throw new WebhookRejected(400, 'invalid', 'missing X-GitHub-Event or X-GitHub-Delivery');
      const contentType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (contentType !== 'application/json' && contentType !== 'application/x-www-form-urlencoded')
        throw new WebhookRejected(415, 'invalid', 'content type must be application/json');

      // The body is read once as bytes: the signature is checked over them, then they are decoded
      // once for parsing.
      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (raw.byteLength === 0) throw new WebhookRejected(400, 'invalid', 'empty body');
      if (!(await deps.verifier.verify(raw, signature)))
        throw new WebhookRejected(401, 'unauthorized', 'signature does not match');

      let payload: unknown;
      try {
        const text = utf8.decode(raw);
        // A full JSON.parse: a scanner that builds only the fields routing reads was measured no
        // faster than V8's parser on a 14 kB body (bench/README.md).
        payload = JSON.parse(
          contentType === 'application/json' ? text : (new URLSearchParams(text).get('payload') ?? ''),
        );
      } catch (err) {
        throw new WebhookRejected(400, 'invalid', 'body is not valid JSON', err);
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
        throw new WebhookRejected(400, 'invalid', 'payload must be a JSON object');

      const routed = routeEvent(event, payload as Record<string, unknown>, deps.settings);
      if (!routed.accepted) {
        if (routed.malformed) throw new WebhookRejected(400, 'invalid', routed.reason);
        done('ignored');
        if (deps.logger.isLevelEnabled('debug'))
          deps.logger.debug({ deliveryId, event, reason: routed.reason }, 'delivery ignored');
        return c.json({ status: 'ignored', reason: routed.reason }, 200);
      }

      let outcome;
      try {
        outcome = await deps.intake.submit({ ...routed.job, deliveryId, receivedAt: Date.now() });
      } catch (err) {
        deps.logger.error(
          { deliveryId, event, err },
          'could not store the delivery; answering 503 so GitHub records it as failed',
        );
        throw new WebhookRejected(503, 'unavailable', 'queue unavailable, retry later', err);
      }
      done(outcome === 'queued' ? 'accepted' : 'duplicate');
      // Debug, not info: a line per accepted delivery cost about as much as its HMAC
      // (bench/README.md); `droidworks_webhook_deliveries_total` counts them.
      if (deps.logger.isLevelEnabled('debug'))
        deps.logger.debug({ deliveryId, event, kind: routed.job.kind, outcome }, 'delivery stored');
      return c.json({ status: outcome, kind: routed.job.kind }, outcome === 'queued' ? 202 : 200);
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
    const done = c.get('done') as ((outcome: string) => void) | undefined;
    if (err instanceof WebhookRejected) {
      done?.(err.outcome);
      deps.logger.warn(
        { deliveryId: c.req.header('x-github-delivery'), status: err.status, reason: err.message },
        'delivery rejected',
      );
      return c.json({ error: err.message }, err.status);
    }
    if (err instanceof HTTPException) return err.getResponse();
    const errorId = randomUUID();
    deps.logger.error({ err, errorId }, 'unexpected gateway error');
    done?.('error');
    return c.json({ error: 'internal error', errorId }, 500);
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
