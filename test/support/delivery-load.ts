import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

/** One signed webhook delivery, kept byte for byte so it can be redelivered unchanged. */
export interface SignedDelivery {
  readonly id: string;
  readonly event: string;
  readonly body: Buffer;
  readonly signature: string;
}

/** What one request got: its status (0 when the connection failed) and its time to answer. */
export interface DeliveryAnswer {
  readonly delivery: SignedDelivery;
  readonly status: number;
  readonly ms: number;
  /** When the request left, in ms since the load started. */
  readonly sentAt: number;
}

/** Signs `payload` as GitHub does (HMAC-SHA256 of the raw body). */
export function signDelivery(id: string, event: string, payload: unknown, secret: string): SignedDelivery {
  const body = Buffer.from(JSON.stringify(payload));
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return { id, event, body, signature };
}

/** Sends one delivery on `agent` and resolves with its answer (never rejects). */
export function sendDelivery(
  url: string,
  d: SignedDelivery,
  agent: Agent,
  startedAt = performance.now(),
): Promise<DeliveryAnswer> {
  const target = new URL(`${url}/webhooks/github`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (status: number): void =>
      resolve({ delivery: d, status, ms: performance.now() - t0, sentAt: t0 - startedAt });
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(d.body.length),
          'user-agent': 'GitHub-Hookshot/test',
          'x-github-event': d.event,
          'x-github-delivery': d.id,
          'x-hub-signature-256': d.signature,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => done(res.statusCode ?? 0));
        res.once('error', () => done(0));
      },
    );
    req.once('error', () => done(0));
    req.end(d.body);
  });
}

/**
 * Open-loop load: delivery `i` leaves at `i / rate` s whatever the earlier ones are doing, so a
 * stalled answer never holds back the next request (GitHub does not wait either).
 */
export async function sendPaced(
  url: string,
  deliveries: readonly SignedDelivery[],
  rate: number,
): Promise<DeliveryAnswer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4096 });
  const started = performance.now();
  const answers: Array<Promise<DeliveryAnswer>> = [];
  try {
    while (answers.length < deliveries.length) {
      const elapsed = performance.now() - started;
      const due = Math.min(deliveries.length, Math.floor((elapsed * rate) / 1000));
      while (answers.length < due)
        answers.push(sendDelivery(url, deliveries[answers.length]!, agent, started));
      await new Promise((r) => setTimeout(r, 1));
    }
    return await Promise.all(answers);
  } finally {
    agent.destroy();
  }
}
