import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHubHost } from '../github/create-github-host.js';
import { freePort } from '../../test/support/redis-server.js';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { intakeJobId } from '../queue/jobs.js';
import { createLogger } from '../util/logger.js';
import { startGateway, WEBHOOK_SECRET, type GatewayHarness } from '../../test/support/gateway-harness.js';
import { startPausableRedis, type PausableRedis } from '../../test/support/pausable-redis.js';
import { redeliverFailed } from './redeliver-failed.js';

describe('redeliverFailed', () => {
  let forge: Forge | undefined;
  let gateway: GatewayHarness | undefined;
  let redis: PausableRedis | undefined;
  afterEach(async () => {
    await forge?.close();
    await gateway?.close();
    await redis?.stop();
    [forge, gateway, redis] = [undefined, undefined, undefined];
  });

  // Issue 10.1: the sweep's redeliveries used to be answered "duplicate" without a job, because the
  // claim of the 503'd attempt had run on Redis after the client gave up on it.
  it('turns deliveries answered 503 during a Redis stall into exactly one job each', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    redis = await startPausableRedis();
    gateway = await startGateway(redis.url);
    forge = await startForge({
      appId: 7,
      privateKey: pem,
      webhook: { url: `${gateway.url}/webhooks/github`, secret: WEBHOOK_SECRET },
    });
    await forge.createRepo({ owner: 'acme', name: 'app' });
    forge.createUser('alice');
    forge.setPermission('acme/app', 'alice', 'write');
    const issues = Array.from({ length: 4 }, (_, i) =>
      forge!.createIssue('acme/app', { title: `t${i}`, as: 'alice' }),
    );
    await forge.webhooks.idle();
    const before = forge.webhooks.deliveries.length;

    redis.pause();
    try {
      for (const issue of issues) forge.addLabel('acme/app', issue.number, 'droid', 'alice');
      await forge.webhooks.idle();
    } finally {
      // Long enough for every claim sent during the pause to time out on the client first.
      await new Promise((r) => setTimeout(r, 500));
      redis.resume();
    }
    const labelled = forge.webhooks.deliveries.slice(before);
    expect(labelled.map((d) => d.statusCode)).toEqual([503, 503, 503, 503]);

    const github = createGitHubHost({
      apiUrl: forge.url,
      auth: { kind: 'app', appId: '7', privateKey: pem },
      webhookSecret: undefined,
      botLogin: undefined,
    });
    const asked = await redeliverFailed(github, createLogger({ level: 'silent' }));
    await forge.webhooks.idle();
    expect(new Set(asked)).toEqual(new Set(labelled.map((d) => d.guid)));
    const waiting = await gateway.redis.lrange(`${gateway.prefix}:intake:wait`, 0, -1);
    expect(waiting.sort()).toEqual(labelled.map((d) => intakeJobId(d.guid)).sort());
    expect(await redeliverFailed(github, createLogger({ level: 'silent' }))).toEqual([]);
  }, 60_000);

  it('asks the forge to send failed deliveries again, with their original GUID', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const deadPort = await freePort();
    forge = await startForge({
      appId: 7,
      privateKey: pem,
      webhook: { url: `http://127.0.0.1:${deadPort}/`, secret: 's3cret-s3cret' },
    });
    await forge.createRepo({ owner: 'acme', name: 'app' });
    forge.createUser('alice');
    forge.setPermission('acme/app', 'alice', 'write');
    const issue = forge.createIssue('acme/app', { title: 't', as: 'alice' });
    forge.addLabel('acme/app', issue.number, 'droid', 'alice');
    await forge.webhooks.idle();
    const failedGuids = forge.webhooks.deliveries.map((d) => d.guid);
    expect(failedGuids.length).toBeGreaterThan(0);

    // The gateway is back: a receiver now answers.
    const received: IncomingHttpHeaders[] = [];
    const receiver = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      res.writeHead(202).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      forge.webhooks.configure({
        url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`,
        secret: 's3cret-s3cret',
      });
      const github = createGitHubHost({
        apiUrl: forge.url,
        auth: { kind: 'app', appId: '7', privateKey: pem },
        webhookSecret: undefined,
        botLogin: undefined,
      });
      const asked = await redeliverFailed(github, createLogger({ level: 'silent' }));
      await forge.webhooks.idle();
      expect(new Set(asked)).toEqual(new Set(failedGuids));
      expect(received.map((h) => h['x-github-delivery']).sort()).toEqual([...failedGuids].sort());
      // Nothing failed is left to redeliver.
      expect(await redeliverFailed(github, createLogger({ level: 'silent' }))).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
