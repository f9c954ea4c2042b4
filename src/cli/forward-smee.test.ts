import { createHmac, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  issuePayload,
  startGateway,
  WEBHOOK_SECRET,
  type GatewayHarness,
} from '../../test/support/gateway-harness.js';
import { startSmeeChannel, type SmeeChannel } from '../../test/support/smee-channel.js';
import { waitFor } from '../../test/support/wait-for.js';
import { createLogger } from '../util/logger.js';
import { forwardSmee, SmeeUnreachableError, type SmeeForwarder } from './forward-smee.js';

const logger = createLogger({ level: 'silent' });

describe('forwardSmee (a local smee channel, the real gateway, real Redis)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a signed delivery relayed by the channel reaches the gateway and becomes an intake job', async () => {
    const gateway: GatewayHarness = await startGateway(inject('redisUrl'));
    cleanup.push(() => gateway.close());
    const channel: SmeeChannel = await startSmeeChannel();
    cleanup.push(() => channel.close());
    const forwarder: SmeeForwarder = await forwardSmee({
      channel: channel.url,
      target: `${gateway.url}/webhooks/github`,
      logger,
    });
    cleanup.push(() => forwarder.close());
    await channel.connected;

    // What GitHub POSTs to the channel: smee relays the parsed body; the client sends it as JSON
    // again, which is byte-identical to GitHub's compact JSON, so the signature still holds.
    const payload = issuePayload({ number: 12 });
    const deliveryId = randomUUID();
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(JSON.stringify(payload)).digest('hex')}`;
    const headers = {
      host: 'smee.io',
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': 'issues',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signature,
    };
    channel.relay(headers, payload);
    const job = await waitFor(
      'the intake job',
      () => gateway.queues.intake.getJob(`delivery-${deliveryId}`),
      10_000,
    );
    expect(job.data).toMatchObject({ deliveryId, repo: { owner: 'acme', name: 'sample' } });

    // A forged delivery (wrong signature) is refused like any other, and becomes no job.
    const forged = randomUUID();
    channel.relay(
      { ...headers, 'x-github-delivery': forged, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      payload,
    );
    await waitFor('the forged delivery to be refused', () =>
      gateway.logs.some((l) => l.includes('delivery rejected') && l.includes(forged)),
    );
    expect(await gateway.queues.intake.getJob(`delivery-${forged}`)).toBeUndefined();
  });

  it('fails within seconds, with one message, when the channel cannot be reached or is no URL', async () => {
    const closed = await startSmeeChannel();
    const url = closed.url;
    await closed.close();
    await expect(
      forwardSmee({
        channel: url,
        target: 'http://127.0.0.1:9/webhooks/github',
        logger,
        connectTimeoutMs: 3000,
      }),
    ).rejects.toThrow(SmeeUnreachableError);
    await expect(
      forwardSmee({ channel: 'smee.io/abc', target: 'http://127.0.0.1:9/webhooks/github', logger }),
    ).rejects.toThrow(/--smee.*not an http/);
  });
});
