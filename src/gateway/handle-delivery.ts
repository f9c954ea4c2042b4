import { randomUUID } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import type { WebhookVerifier } from '../github/verify-webhook.js';
import type { IntakeWriter } from '../queue/intake-writer.js';
import type { IntakeJob } from '../queue/jobs.js';
import type { Logger } from '../util/logger.js';
import type { GatewayMetrics } from './metrics.js';
import { routeEvent, type RouteSettings } from './route-event.js';

/** The path GitHub posts deliveries to. */
export const WEBHOOK_PATH = '/webhooks/github';

/** GitHub's own payload cap; larger bodies are refused while still streaming. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** What handling a delivery needs: no GitHub or model client, by design. */
export interface DeliveryDeps {
  readonly verifier: WebhookVerifier;
  readonly intake: IntakeWriter;
  readonly settings: RouteSettings;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

/** The headers of a delivery that handling reads (as node and Hono give them: lower-case names). */
export interface DeliveryHeaders {
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
  readonly signature: string | undefined;
  readonly contentType: string | undefined;
}

/** The answer to a delivery: a status and its JSON body, already serialised. */
export interface DeliveryAnswer {
  readonly status: number;
  readonly body: string;
}

/** A delivery refused with the status it deserves (thrown, then mapped by {@link decideRejection}). */
export class WebhookRejected extends HTTPException {
  constructor(
    status: 400 | 401 | 413 | 415 | 503,
    readonly outcome: string,
    message: string,
    cause?: unknown,
  ) {
    super(status, { message, cause });
  }
}

/** The refusal of a body over {@link MAX_WEBHOOK_BYTES}. */
export function tooLarge(): WebhookRejected {
  return new WebhookRejected(413, 'too_large', `body exceeds ${MAX_WEBHOOK_BYTES} bytes`);
}

/** How an error ends a delivery: its status, the outcome counted, and what the sender is told. */
export type Rejection =
  | { readonly kind: 'rejected'; readonly status: number; readonly outcome: string; readonly error: string }
  | { readonly kind: 'unexpected'; readonly status: 500; readonly outcome: 'error'; readonly error: string };

/**
 * The one error → status mapping of the webhook route, shared by the node fast path and Hono's
 * `onError`, so both answer a refusal identically (400, 401, 413, 415, 503; anything else 500).
 */
export function decideRejection(err: unknown): Rejection {
  if (err instanceof WebhookRejected)
    return { kind: 'rejected', status: err.status, outcome: err.outcome, error: err.message };
  return { kind: 'unexpected', status: 500, outcome: 'error', error: 'internal error' };
}

/**
 * Logs a refusal as the gateway always has (a `warn` per rejected delivery, an `error` with an id
 * for an unexpected one) and returns the answer's body.
 */
export function answerRejection(
  logger: Logger,
  rejection: Rejection,
  deliveryId: string | undefined,
  err: unknown,
): DeliveryAnswer {
  if (rejection.kind === 'rejected') {
    logger.warn({ deliveryId, status: rejection.status, reason: rejection.error }, 'delivery rejected');
    return { status: rejection.status, body: JSON.stringify({ error: rejection.error }) };
  }
  const errorId = randomUUID();
  logger.error({ err, errorId, deliveryId }, 'unexpected gateway error');
  return { status: 500, body: JSON.stringify({ error: rejection.error, errorId }) };
}

const utf8 = new TextDecoder();

/** A delivery after its body was read: ignored (answered 200 at once) or a job to store. */
type Admitted =
  | { readonly ignored: string; readonly event: string }
  | { readonly job: IntakeJob; readonly event: string; readonly deliveryId: string };

/**
 * Handles one delivery whose body has been read (under the size cap): verify the HMAC over the raw
 * bytes, parse, route, store the job, and answer. Every outcome is counted; nothing is thrown.
 * It makes no GitHub or model call: a delivery is verified, routed, written to Redis, and answered.
 */
export function createDeliveryHandler(
  deps: DeliveryDeps,
): (headers: DeliveryHeaders, raw: Uint8Array, started: number) => Promise<DeliveryAnswer> {
  const { metrics, logger } = deps;
  const count = (event: string | undefined, outcome: string, started: number): void => {
    metrics.deliveries.inc({ event: event ?? 'unknown', outcome });
    metrics.intakeLatency.observe({ outcome }, (performance.now() - started) / 1000);
  };
  // The few answers a stored delivery gets, serialised once.
  const stored = new Map<string, string>();
  const storedBody = (status: string, kind: string): string => {
    const key = `${status}:${kind}`;
    let body = stored.get(key);
    if (body === undefined) stored.set(key, (body = JSON.stringify({ status, kind })));
    return body;
  };

  /**
   * Verifies, parses and routes: everything that reads the body. It returns before the Redis round
   * trip, so the bytes, their text and the parsed payload are garbage once it has. Under load a
   * delivery waits milliseconds for its batch; holding ~14 kB of body and its parse tree across that
   * wait kept them alive through young-generation collections, and the benchmark saw GC pauses of
   * 122 ms that this split brought down to 10–14 ms (bench/README.md).
   */
  async function admit(h: DeliveryHeaders, raw: Uint8Array): Promise<Admitted> {
    const { event, deliveryId, signature } = h;
    if (!signature) throw new WebhookRejected(401, 'unauthorized', 'missing X-Hub-Signature-256');
    if (!event || !deliveryId)
      throw new WebhookRejected(400, 'invalid', 'missing X-GitHub-Event or X-GitHub-Delivery');
    const contentType = (h.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json' && contentType !== 'application/x-www-form-urlencoded')
      throw new WebhookRejected(415, 'invalid', 'content type must be application/json');
    if (raw.byteLength === 0) throw new WebhookRejected(400, 'invalid', 'empty body');
    // The signature is checked over the bytes as received, before anything parses them.
    if (!(await deps.verifier.verify(raw, signature)))
      throw new WebhookRejected(401, 'unauthorized', 'signature does not match');
    return route(event, deliveryId, contentType, raw);
  }

  /** Parses the verified body and routes it (synchronous: nothing here outlives the call). */
  function route(event: string, deliveryId: string, contentType: string, raw: Uint8Array): Admitted {
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
    if (routed.accepted)
      return { job: { ...routed.job, deliveryId, receivedAt: Date.now() }, event, deliveryId };
    if (routed.malformed) throw new WebhookRejected(400, 'invalid', routed.reason);
    if (logger.isLevelEnabled('debug'))
      logger.debug({ deliveryId, event, reason: routed.reason }, 'delivery ignored');
    return { ignored: routed.reason, event };
  }

  /** Stores a routed delivery's job and answers once Redis has confirmed it. */
  async function store(a: Extract<Admitted, { job: IntakeJob }>, started: number): Promise<DeliveryAnswer> {
    let outcome;
    try {
      outcome = await deps.intake.submit(a.job);
    } catch (err) {
      logger.error(
        { deliveryId: a.deliveryId, event: a.event, err },
        'could not store the delivery; answering 503 so GitHub records it as failed',
      );
      throw new WebhookRejected(503, 'unavailable', 'queue unavailable, retry later', err);
    }
    count(a.event, outcome === 'queued' ? 'accepted' : 'duplicate', started);
    // Debug, not info: a line per accepted delivery cost about as much as its HMAC
    // (bench/README.md); `droidworks_webhook_deliveries_total` counts them.
    if (logger.isLevelEnabled('debug'))
      logger.debug(
        { deliveryId: a.deliveryId, event: a.event, kind: a.job.kind, outcome },
        'delivery stored',
      );
    return { status: outcome === 'queued' ? 202 : 200, body: storedBody(outcome, a.job.kind) };
  }

  // Promise chains rather than one async function, so no suspended frame keeps `raw` alive.
  return (headers, raw, started) =>
    admit(headers, raw)
      .then((a): DeliveryAnswer | Promise<DeliveryAnswer> => {
        if ('job' in a) return store(a, started);
        count(a.event, 'ignored', started);
        return { status: 200, body: JSON.stringify({ status: 'ignored', reason: a.ignored }) };
      })
      .catch((err: unknown) => {
        const rejection = decideRejection(err);
        count(headers.event, rejection.outcome, started);
        return answerRejection(logger, rejection, headers.deliveryId, err);
      });
}
