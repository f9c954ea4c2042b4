import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect, inject, it } from 'vitest';
import { deliver, issuePayload, WEBHOOK_SECRET } from '../../test/support/gateway-harness.js';
import { freePort } from '../../test/support/redis-server.js';
import { loadConfig } from '../config/load-config.js';
import { RedisUnreachableError } from '../queue/redis-connection.js';
import { createLogger } from '../util/logger.js';
import { serveGateway } from './serve-gateway.js';

const redisUrl = inject('redisUrl');

function setup(url: string) {
  const logs: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  });
  const config = loadConfig(
    {
      GITHUB_TOKEN: 'ghp_test',
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      REDIS_URL: url,
      DROIDWORKS_QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
      HOST: '127.0.0.1',
      PORT: '0',
    },
    { require: ['gateway'] },
  );
  return { logs, logger, config };
}

// The e2e stack's forge sends its first webhook right after the gateway listens; before this, a
// delivery that beat the gateway's Redis handshake got a 503 and was lost (a run that never started).
it('stores a delivery that arrives the moment the gateway listens', async () => {
  const { logs, logger, config } = setup(redisUrl);
  const gateway = await serveGateway({ config, redisUrl, logger });
  try {
    const response = await deliver(gateway.url, { event: 'issues', payload: issuePayload({}) });
    expect(logs.join('')).toBe('');
    expect(response.status).toBe(202);
  } finally {
    await gateway.close();
  }
});

it('does not listen when its Redis does not answer, and names REDIS_URL', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const { logger, config } = setup(url);
  await expect(serveGateway({ config, redisUrl: url, logger })).rejects.toThrow(RedisUnreachableError);
  await expect(serveGateway({ config, redisUrl: url, logger })).rejects.toThrow(/REDIS_URL/);
});
