import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHubHost } from '../github/create-github-host.js';
import { freePort } from '../../test/support/redis-server.js';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { createLogger } from '../util/logger.js';
import { redeliverFailed } from './redeliver-failed.js';

describe('redeliverFailed', () => {
  let forge: Forge | undefined;
  afterEach(async () => forge?.close());

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
