/**
 * The body of an admission thread (`admission-pool.ts`): verifies, parses and routes the deliveries
 * the main thread posts, and posts back the small routed result or the refusal. The webhook secret
 * arrives in `workerData` (same process) and is never logged; this thread logs nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createWebhookVerifier } from '../github/verify-webhook.js';
import { createAdmit } from './admit-delivery.js';
import { WebhookRejected } from './handle-delivery.js';
import type { AdmissionData, AdmissionReply, AdmissionRequest } from './admission-pool.js';

const data = workerData as AdmissionData;
const admit = createAdmit(createWebhookVerifier(data.secret), data.settings);
const port = parentPort!;

function refusal(id: number, err: unknown): AdmissionReply {
  if (err instanceof WebhookRejected)
    return {
      id,
      rejected: {
        status: err.status as 400 | 401 | 413 | 415 | 503,
        outcome: err.outcome,
        message: err.message,
        cause: err.cause instanceof Error ? err.cause.message : undefined,
      },
    };
  const e = err instanceof Error ? err : new Error(String(err));
  return { id, failed: { message: e.message, stack: e.stack } };
}

port.on('message', (batch: readonly AdmissionRequest[]) => {
  void Promise.all(
    batch.map((m) =>
      admit(m.headers, m.raw).then(
        (admitted): AdmissionReply => ({ id: m.id, admitted }),
        (err: unknown) => refusal(m.id, err),
      ),
    ),
  ).then((replies) => port.postMessage(replies));
});

port.postMessage({ ready: true });
