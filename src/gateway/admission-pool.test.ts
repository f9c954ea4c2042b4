import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  commentPayload,
  deliver,
  issuePayload,
  startGateway,
  type Delivery,
  type GatewayHarness,
} from '../../test/support/gateway-harness.js';

/**
 * Admission threads (`DROIDWORKS_GATEWAY_THREADS`): the gateway verifying, parsing and routing on
 * worker threads answers exactly as it does inline, over real HTTP against a real Redis, and a
 * thread that dies costs the deliveries inside it a 500, not a hang.
 */
const redisUrl = inject('redisUrl');

let gateways: GatewayHarness[] = [];
afterEach(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  gateways = [];
});

async function start(threads: number, resourceLimits?: { maxOldGenerationSizeMb: number }) {
  const g = await startGateway(redisUrl, {}, { threads, resourceLimits });
  gateways.push(g);
  return g;
}

/** Every kind of answer the webhook route gives, each delivery with a fixed id. */
const deliveries: ReadonlyArray<{ name: string; d: Delivery }> = [
  { name: 'accepted', d: { event: 'issues', payload: issuePayload({}), deliveryId: 'same-id' } },
  { name: 'duplicate', d: { event: 'issues', payload: issuePayload({}), deliveryId: 'same-id' } },
  { name: 'command', d: { event: 'issue_comment', payload: commentPayload('/droid status') } },
  { name: 'ignored', d: { event: 'issues', payload: issuePayload({ label: 'bug' }) } },
  { name: 'ignored event', d: { event: 'star', payload: { action: 'created' } } },
  { name: 'malformed', d: { event: 'issues', payload: { action: 'labeled', label: { name: 'droid' } } } },
  { name: 'bad signature', d: { event: 'issues', payload: issuePayload({}), signBody: 'other' } },
  {
    name: 'no signature',
    d: { event: 'issues', payload: issuePayload({}), headers: { 'x-hub-signature-256': null } },
  },
  { name: 'no event', d: { event: 'issues', payload: {}, headers: { 'x-github-event': null } } },
  { name: 'content type', d: { event: 'issues', payload: {}, headers: { 'content-type': 'text/plain' } } },
  { name: 'not JSON', d: { event: 'issues', payload: null, body: '{"action":' } },
  { name: 'not an object', d: { event: 'issues', payload: [1, 2] } },
  { name: 'empty body', d: { event: 'issues', payload: null, body: '' } },
  {
    name: 'form encoded',
    d: {
      event: 'issue_comment',
      payload: null,
      body: `payload=${encodeURIComponent(JSON.stringify(commentPayload('/droid plan')))}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
  },
];

async function answers(g: GatewayHarness) {
  const out: Array<{ name: string; status: number; body: string }> = [];
  for (const { name, d } of deliveries) {
    const res = await deliver(g.url, d);
    out.push({ name, status: res.status, body: await res.text() });
  }
  return out;
}

/** The log lines of a run with the fields that differ between two runs (time, ids) removed. */
const logShape = (g: GatewayHarness) =>
  g.logs.map((line) => {
    const { msg, level, status, reason, event } = JSON.parse(line) as Record<string, unknown>;
    return { msg, level, status, reason, event };
  });

describe('admission threads', () => {
  it('answer, count and log every kind of delivery exactly as the inline gateway does', async () => {
    const inline = await start(0);
    const threaded = await start(1);
    const a = await answers(inline);
    const b = await answers(threaded);
    expect(b).toEqual(a);
    // The table covers every outcome, so a regression in any mapping shows.
    expect(new Set(a.map((x) => x.status))).toEqual(new Set([200, 202, 400, 401, 415]));
    expect(logShape(threaded)).toEqual(logShape(inline));
    const metric = async (g: GatewayHarness) =>
      (await g.metrics.registry.getSingleMetricAsString('droidworks_webhook_deliveries_total'))
        .split('\n')
        .sort();
    expect(await metric(threaded)).toEqual(await metric(inline));
    expect(await threaded.redis.lrange(`${threaded.prefix}:intake:wait`, 0, -1)).toHaveLength(3);
  });

  it('spread concurrent deliveries over several threads and store each once', async () => {
    const g = await start(2);
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const statuses = await Promise.all(
      ids.map((deliveryId) =>
        deliver(g.url, { event: 'issues', payload: issuePayload({}), deliveryId }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(ids.map(() => 202));
    expect(await g.redis.lrange(`${g.prefix}:intake:wait`, 0, -1)).toHaveLength(40);
  });

  it('refuse the deliveries inside a thread that dies with a 500, and replace the thread', async () => {
    // A thread over its heap limit dies (ERR_WORKER_OUT_OF_MEMORY): the JSON of this body builds
    // far more than 32 MB of objects.
    const g = await start(1, { maxOldGenerationSizeMb: 32 });
    const huge = `{"items":[${Array.from({ length: 400_000 }, (_, i) => `{"a":${i},"b":[${i}]}`).join(',')}]}`;
    const res = await deliver(g.url, { event: 'issues', payload: null, body: huge });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: 'internal error', errorId: expect.any(String) });
    const lines = g.logs.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
    expect(lines.map((l) => l.msg)).toContain('admission thread exited; starting another');
    expect(lines.find((l) => l.msg === 'unexpected gateway error')?.err?.message).toMatch(
      /admission thread exited/,
    );
    // The next delivery is admitted by the replacement thread.
    const next = await deliver(g.url, { event: 'issues', payload: issuePayload({}) });
    expect(next.status).toBe(202);
  });

  it('never log the secret', async () => {
    const g = await start(1);
    await answers(g);
    expect(g.logs.join('\n')).not.toContain('test-webhook-secret');
  });
});
