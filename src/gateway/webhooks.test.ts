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
import { spawnRedis } from '../../test/support/redis-server.js';

const redisUrl = inject('redisUrl');

async function jobCount(h: GatewayHarness): Promise<number> {
  const counts = await h.queues.intake.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const label = issuePayload({});
const labelJson = JSON.stringify(label);

// Each case: what is sent, the exact status, and the exact number of intake jobs afterwards.
const hostile: Array<[string, Delivery, number, number]> = [
  ['no signature', { event: 'issues', payload: label, headers: { 'x-hub-signature-256': null } }, 401, 0],
  [
    'wrong signature',
    { event: 'issues', payload: label, headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } },
    401,
    0,
  ],
  [
    'sha1 signature only',
    { event: 'issues', payload: label, headers: { 'x-hub-signature-256': 'sha1=abc' } },
    401,
    0,
  ],
  [
    'signature over a different body',
    { event: 'issues', payload: label, signBody: labelJson.replace('alice', 'mallory') },
    401,
    0,
  ],
  ['truncated JSON', { event: 'issues', payload: null, body: labelJson.slice(0, 40) }, 400, 0],
  ['empty body', { event: 'issues', payload: null, body: '' }, 400, 0],
  ['JSON array', { event: 'issues', payload: [label] }, 400, 0],
  ['JSON null', { event: 'issues', payload: null, body: 'null' }, 400, 0],
  [
    'wrong content type',
    { event: 'issues', payload: label, headers: { 'content-type': 'text/plain' } },
    415,
    0,
  ],
  ['missing event header', { event: 'issues', payload: label, headers: { 'x-github-event': null } }, 400, 0],
  [
    'missing delivery header',
    { event: 'issues', payload: label, headers: { 'x-github-delivery': null } },
    400,
    0,
  ],
  ['unknown event', { event: 'gollum', payload: { ...label, action: undefined } }, 200, 0],
  ['unrouted action', { event: 'issues', payload: issuePayload({ action: 'pinned' }) }, 200, 0],
  ['payload missing repository', { event: 'issues', payload: { ...label, repository: undefined } }, 400, 0],
  ['another label', { event: 'issues', payload: issuePayload({ label: 'bug' }) }, 200, 0],
  [
    'label by a bot',
    { event: 'issues', payload: issuePayload({ sender: { login: 'renovate[bot]', type: 'Bot' } }) },
    200,
    0,
  ],
  [
    'label by droidworks itself',
    { event: 'issues', payload: issuePayload({ sender: { login: 'droidworks[bot]', type: 'Bot' } }) },
    200,
    0,
  ],
  [
    'command from a bot',
    { event: 'issue_comment', payload: commentPayload('/droid run', { login: 'ci-bot[bot]', type: 'Bot' }) },
    200,
    0,
  ],
  [
    'edited comment',
    { event: 'issue_comment', payload: { ...commentPayload('/droid run'), action: 'edited' } },
    200,
    0,
  ],
  [
    'command inside a code block',
    { event: 'issue_comment', payload: commentPayload('```\n/droid run\n```') },
    200,
    0,
  ],
  ['quoted command', { event: 'issue_comment', payload: commentPayload('> /droid run') }, 200, 0],
  // The gateway makes no GitHub call: a reader's command costs one cheap intake job that the worker refuses.
  [
    'command from a reader-only user',
    { event: 'issue_comment', payload: commentPayload('/droid run', { login: 'reader', type: 'User' }) },
    202,
    1,
  ],
  [
    'form-encoded delivery',
    {
      event: 'issues',
      payload: null,
      body: `payload=${encodeURIComponent(labelJson)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    202,
    1,
  ],
  ['valid label', { event: 'issues', payload: label }, 202, 1],
];

describe('POST /webhooks/github', () => {
  let h: GatewayHarness;
  afterEach(async () => h?.close());

  it.each(hostile)('%s → status %s, jobs %s', async (_name, delivery, status, jobs) => {
    h = await startGateway(redisUrl);
    const res = await deliver(h.url, delivery);
    expect(res.status).toBe(status);
    expect(await jobCount(h)).toBe(jobs);
  });

  it('refuses a 30 MB body with 413 and stores nothing', async () => {
    h = await startGateway(redisUrl);
    const big = Buffer.alloc(30 * 1024 * 1024, 0x61);
    const res = await deliver(h.url, { event: 'issues', payload: null, body: big, signBody: 'x' });
    expect(res.status).toBe(413);
    expect(await jobCount(h)).toBe(0);
  });

  it('stores 10 concurrent copies of one delivery once', async () => {
    h = await startGateway(redisUrl);
    const deliveryId = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => deliver(h.url, { event: 'issues', payload: label, deliveryId })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(await jobCount(h)).toBe(1);
  });

  it('turns a label into an intake job carrying no secret and nothing but what the worker needs', async () => {
    h = await startGateway(redisUrl);
    const deliveryId = randomUUID();
    const res = await deliver(h.url, { event: 'issues', payload: label, deliveryId });
    expect(await res.json()).toEqual({ status: 'queued', kind: 'label' });
    const [job] = await h.queues.intake.getJobs(['waiting']);
    expect(job?.id).toBe(`delivery-${deliveryId}`);
    expect(job?.data).toMatchObject({
      kind: 'label',
      deliveryId,
      repo: { owner: 'acme', name: 'sample' },
      installationId: 99,
      sender: { login: 'alice' },
      subject: { type: 'issue', number: 7 },
    });
    expect(JSON.stringify(job?.data)).not.toContain('test-webhook-secret');
    // Every log line of the delivery carries its id.
    const lines = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'delivery stored');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ deliveryId, event: 'issues' });
  });

  it('answers 503 at once when Redis is gone, and stores the redelivery afterwards', async () => {
    const own = await spawnRedis();
    h = await startGateway(own.url);
    await own.stop();
    const deliveryId = randomUUID();
    const res = await deliver(h.url, { event: 'issues', payload: label, deliveryId });
    expect(res.status).toBe(503);
  });

  it('exposes health, readiness and metrics', async () => {
    h = await startGateway(redisUrl);
    await deliver(h.url, { event: 'issues', payload: label });
    await deliver(h.url, { event: 'issues', payload: label, headers: { 'x-hub-signature-256': null } });
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('droidworks_webhook_deliveries_total{event="issues",outcome="accepted"} 1');
    expect(metrics).toContain('droidworks_webhook_deliveries_total{event="issues",outcome="unauthorized"} 1');
    expect(metrics).toMatch(/droidworks_webhook_intake_seconds_count\{outcome="accepted"\} 1/);
  });
});
