import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createQueues } from '../../src/queue/queues.js';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { bareEnv, spawnCli } from '../support/cli-process.js';
import { issuePayload } from '../support/gateway-harness.js';
import { freePort } from '../support/redis-server.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { startSmeeChannel } from '../support/smee-channel.js';
import { waitFor } from '../support/wait-for.js';

describe('droidworks gateway --smee (with traces on)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('receives a signed delivery through the smee channel, queues it, and traces it', async () => {
    const channel = await startSmeeChannel();
    cleanup.push(() => channel.close());
    const receiver = await startOtlpReceiver();
    cleanup.push(() => receiver.close());
    const dir = await mkdtemp(join(tmpdir(), 'dw-smee-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const prefix = `dwsmee${randomUUID().slice(0, 6)}`;
    const secret = 'smee-test-webhook-secret';
    const cli = spawnCli(['gateway', '--smee', channel.url], {
      cwd: dir,
      env: bareEnv({
        REDIS_URL: inject('redisUrl'),
        GITHUB_WEBHOOK_SECRET: secret,
        DROIDWORKS_QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      }),
    });
    cleanup.push(async () => {
      if (cli.child.exitCode === null) {
        cli.child.kill('SIGTERM');
        await cli.done;
      }
    });
    await waitFor(
      'the forwarder to start',
      () => cli.output().stdout.includes('forwarding webhooks from smee'),
      60_000,
    );
    await channel.connected;

    const payload = issuePayload({ number: 21 });
    const deliveryId = randomUUID();
    channel.relay(
      {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(JSON.stringify(payload)).digest('hex')}`,
      },
      payload,
    );
    const redis = createRedisConnection(inject('redisUrl'), { role: 'producer' });
    const queues = createQueues(redis, prefix);
    cleanup.push(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await queues.close();
      redis.disconnect();
    });
    const job = await waitFor('the intake job', () => queues.intake.getJob(`delivery-${deliveryId}`), 15_000);
    expect(job.data).toMatchObject({ deliveryId, subject: { number: 21 } });

    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(0);
    // The CLI sent its buffered spans before exiting.
    expect(receiver.refused).toEqual([]);
    expect(
      receiver.spans
        .filter((s) => s.name === 'webhook delivery')
        .map((s) => [s.attributes['github.delivery'], s.attributes['http.response.status_code'], s.service]),
    ).toEqual([[deliveryId, 202, 'droidworks']]);
  });
});
