import type { WebhookVerifier } from '../github/verify-webhook.js';
import type { IntakeJob } from '../queue/jobs.js';
import { WebhookRejected, type DeliveryHeaders } from './handle-delivery.js';
import { routeEvent, type RouteSettings } from './route-event.js';

/** A delivery after its body was read: ignored (answered 200 at once) or a job to store. */
export type Admitted =
  | { readonly ignored: string; readonly event: string }
  | { readonly job: IntakeJob; readonly event: string; readonly deliveryId: string };

/** Admits one delivery: its headers and raw bytes to a routed result, or a {@link WebhookRejected}. */
export type Admit = (headers: DeliveryHeaders, raw: Uint8Array) => Promise<Admitted>;

const utf8 = new TextDecoder();

/**
 * Verifies, parses and routes: everything that reads the body, and nothing else (no log, no metric,
 * no Redis), so it runs the same on the main thread or in an admission thread
 * (`admission-pool.ts`). It returns before the Redis round trip, so the bytes, their text and the
 * parsed payload are garbage once it has. Under load a delivery waits milliseconds for its batch;
 * holding ~14 kB of body and its parse tree across that wait kept them alive through
 * young-generation collections, and the benchmark saw GC pauses of 122 ms that this split brought
 * down to 10–14 ms (bench/README.md).
 */
export function createAdmit(verifier: WebhookVerifier, settings: RouteSettings): Admit {
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

    const routed = routeEvent(event, payload as Record<string, unknown>, settings);
    if (routed.accepted)
      return { job: { ...routed.job, deliveryId, receivedAt: Date.now() }, event, deliveryId };
    if (routed.malformed) throw new WebhookRejected(400, 'invalid', routed.reason);
    return { ignored: routed.reason, event };
  }

  return async (h, raw) => {
    const { event, deliveryId, signature } = h;
    if (!signature) throw new WebhookRejected(401, 'unauthorized', 'missing X-Hub-Signature-256');
    if (!event || !deliveryId)
      throw new WebhookRejected(400, 'invalid', 'missing X-GitHub-Event or X-GitHub-Delivery');
    const contentType = (h.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json' && contentType !== 'application/x-www-form-urlencoded')
      throw new WebhookRejected(415, 'invalid', 'content type must be application/json');
    if (raw.byteLength === 0) throw new WebhookRejected(400, 'invalid', 'empty body');
    // The signature is checked over the bytes as received, before anything parses them.
    if (!(await verifier.verify(raw, signature)))
      throw new WebhookRejected(401, 'unauthorized', 'signature does not match');
    return route(event, deliveryId, contentType, raw);
  };
}
