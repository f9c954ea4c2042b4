import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  commentPayload,
  deliver,
  issuePayload,
  startGateway,
  WEBHOOK_SECRET,
  type Delivery,
  type GatewayHarness,
} from '../../test/support/gateway-harness.js';
import { spawnRedis } from '../../test/support/redis-server.js';
import { startEmbeddedRedis } from '../queue/embedded-redis.js';
import { MAX_WEBHOOK_BYTES } from './handle-delivery.js';

/**
 * The node fast path of `POST /webhooks/github` (gateway-listener.ts), over real HTTP against a real
 * Redis. The broader status table runs over the same server in webhooks.test.ts; here: what the fast
 * path does itself (body collection, the size cap, handing other requests to Hono) and that it
 * answers exactly as the Hono route does.
 */
const redisUrl = inject('redisUrl');

async function jobIds(h: GatewayHarness): Promise<string[]> {
  return h.redis.lrange(`${h.prefix}:intake:wait`, 0, -1);
}

const signature = (body: string | Buffer): string =>
  `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;

/** A raw HTTP request, so headers and body can be anything a client could send. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  writeBody: (write: (chunk: Buffer) => boolean, end: () => void) => void,
): Promise<{ status: number; body: string; connection: string | undefined }> {
  const target = new URL(`${url}/webhooks/github`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
        );
      },
    );
    // The server may close the connection while the client is still sending an oversized body.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    writeBody(
      (chunk) => req.write(chunk),
      () => req.end(),
    );
  });
}

const label = issuePayload({});

describe('the webhook fast path (node request listener)', () => {
  let h: GatewayHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers a wrong signature 401, stores nothing, and logs the rejection with the delivery id', async () => {
    h = await startGateway(redisUrl);
    const deliveryId = randomUUID();
    const res = await deliver(h.url, {
      event: 'issues',
      payload: label,
      deliveryId,
      signBody: JSON.stringify(label).replace('alice', 'mallory'),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'signature does not match' });
    expect(await jobIds(h)).toEqual([]);
    const rejected = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'delivery rejected');
    expect(rejected).toEqual([expect.objectContaining({ deliveryId, status: 401 })]);
  });

  it('refuses a declared oversize body with 413 before reading it, and closes the connection', async () => {
    h = await startGateway(redisUrl);
    const answer = await rawPost(
      h.url,
      {
        'content-type': 'application/json',
        'content-length': String(MAX_WEBHOOK_BYTES + 1),
        'x-github-event': 'issues',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signature('x'),
      },
      // Only 1 kB of the declared 25 MB is ever sent: the answer cannot wait for the rest.
      (write) => void write(Buffer.alloc(1024, 0x61)),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: `body exceeds ${MAX_WEBHOOK_BYTES} bytes` });
    expect(answer.connection).toBe('close');
    expect(await jobIds(h)).toEqual([]);
  });

  it('refuses a chunked body with 413 once it passes the cap', async () => {
    h = await startGateway(redisUrl);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const answer = await rawPost(
      h.url,
      {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        'x-github-event': 'issues',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signature('x'),
      },
      (write, end) => {
        let sent = 0;
        const more = (): void => {
          while (sent <= MAX_WEBHOOK_BYTES) {
            sent += chunk.length;
            if (!write(chunk)) return void setImmediate(more);
          }
          end();
        };
        more();
      },
    );
    expect(answer.status).toBe(413);
    expect(await jobIds(h)).toEqual([]);
  });

  it('stores a chunked delivery under the cap like any other', async () => {
    h = await startGateway(redisUrl);
    const body = Buffer.from(JSON.stringify(label));
    const deliveryId = randomUUID();
    const answer = await rawPost(
      h.url,
      {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        'x-github-event': 'issues',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': signature(body),
      },
      (write, end) => {
        // Split mid-character of nothing in particular: the signature is over the joined bytes.
        write(body.subarray(0, 7));
        write(body.subarray(7));
        end();
      },
    );
    expect(answer.status).toBe(202);
    expect(await jobIds(h)).toEqual([`delivery-${deliveryId}`]);
  });

  it('answers 503 when Redis is away, and stores the redelivery once Redis is back', async () => {
    const own = await spawnRedis();
    h = await startGateway(own.url);
    await own.stop();
    const deliveryId = randomUUID();
    const first = await deliver(h.url, { event: 'issues', payload: label, deliveryId });
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ error: 'queue unavailable, retry later' });
    const failed = await h.metrics.deliveries.get();
    expect(failed.values).toContainEqual(
      expect.objectContaining({ labels: { event: 'issues', outcome: 'unavailable' }, value: 1 }),
    );
    // The gateway's connection reconnects to a Redis on the same port: GitHub's redelivery lands.
    const again = await startEmbeddedRedis({ port: own.port });
    try {
      await waitUntil(async () => h!.redis.status === 'ready');
      const second = await deliver(h.url, { event: 'issues', payload: label, deliveryId });
      expect(second.status).toBe(202);
      expect(await jobIds(h)).toEqual([`delivery-${deliveryId}`]);
      await h.close();
      h = undefined;
    } finally {
      await again.stop();
    }
  });

  it('stores a delivery sent many times, sequentially and at once, as one job', async () => {
    h = await startGateway(redisUrl);
    const deliveryId = randomUUID();
    const d: Delivery = { event: 'issue_comment', payload: commentPayload('/droid status'), deliveryId };
    const first = await deliver(h.url, d);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ status: 'queued', kind: 'command' });
    const later = await Promise.all(Array.from({ length: 8 }, () => deliver(h!.url, d)));
    expect(later.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(await later[0]!.json()).toEqual({ status: 'duplicate', kind: 'command' });
    expect(await jobIds(h)).toEqual([`delivery-${deliveryId}`]);
  });

  it('answers every delivery exactly as the Hono route does', async () => {
    h = await startGateway(redisUrl);
    const stored = randomUUID();
    const cases: Delivery[] = [
      { event: 'issues', payload: label, headers: { 'x-hub-signature-256': null } },
      { event: 'issues', payload: label, headers: { 'x-hub-signature-256': 'sha1=abc' } },
      { event: 'issues', payload: label, headers: { 'x-github-delivery': null } },
      { event: 'issues', payload: label, headers: { 'content-type': 'text/plain' } },
      { event: 'issues', payload: null, body: '' },
      { event: 'issues', payload: null, body: '{"action":' },
      { event: 'issues', payload: [label] },
      { event: 'issues', payload: { ...label, repository: undefined } },
      { event: 'issues', payload: issuePayload({ label: 'bug' }) },
      { event: 'gollum', payload: { ...label, action: undefined } },
      // A new delivery on each path (each request gets its own id), then one already stored.
      { event: 'issues', payload: label },
      { event: 'issues', payload: label, deliveryId: stored },
    ];
    expect((await deliver(h.url, { event: 'issues', payload: label, deliveryId: stored })).status).toBe(202);
    for (const d of cases) {
      const viaNode = await deliver(h.url, d);
      const viaHono = await h.app.request('/webhooks/github', await asRequest(d));
      const body = (r: Response): Promise<unknown> => r.json();
      expect({ status: viaNode.status, body: await body(viaNode) }).toEqual({
        status: viaHono.status,
        body: await body(viaHono),
      });
      expect(viaNode.headers.get('content-type')).toBe(viaHono.headers.get('content-type'));
    }
  });

  it('hands every other request to the Hono app', async () => {
    h = await startGateway(redisUrl);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    const get = await fetch(`${h.url}/webhooks/github`);
    expect(get.status).toBe(404);
    expect(await get.json()).toEqual({ error: 'not found' });
    // A query string does not take a delivery off the fast path.
    const deliveryId = randomUUID();
    const body = JSON.stringify(label);
    const res = await fetch(`${h.url}/webhooks/github?source=proxy`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': signature(body),
      },
      body,
    });
    expect(res.status).toBe(202);
    expect(await jobIds(h)).toEqual([`delivery-${deliveryId}`]);
  });
});

/** The same bytes and headers `deliver` sends, as a web Request for `app.request()`. */
async function asRequest(d: Delivery): Promise<RequestInit> {
  const body = d.body ?? JSON.stringify(d.payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.deliveryId ?? randomUUID(),
    'x-hub-signature-256': signature(d.signBody ?? body),
  };
  for (const [k, v] of Object.entries(d.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  return { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) };
}

async function waitUntil(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met within 5 s');
}
