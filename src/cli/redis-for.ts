import { join } from 'node:path';
import type { Config } from '../config/load-config.js';
import { ConfigError } from '../config/config-error.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../queue/embedded-redis.js';
import type { Logger } from '../util/logger.js';

export interface RedisTarget {
  readonly url: string;
  readonly embedded?: EmbeddedRedis;
}

/**
 * The Redis this process uses: `REDIS_URL`, or for `start` only an embedded `redis-server` child
 * with its append-only file under the data directory.
 */
export async function redisFor(config: Config, command: string, logger: Logger): Promise<RedisTarget> {
  if (config.redisUrl) return { url: config.redisUrl };
  if (command !== 'start' && command !== 'demo')
    throw new ConfigError([
      {
        path: 'REDIS_URL',
        message: `is required for \`droidworks ${command}\`: gateways and workers on several machines share one Redis`,
        example: 'redis://redis.internal:6379',
      },
    ]);
  const embedded = await startEmbeddedRedis({ dir: join(config.dataDir, 'redis') });
  logger.info(
    { url: embedded.url, dir: join(config.dataDir, 'redis') },
    'REDIS_URL is unset: started an embedded redis-server for this process (stopped on exit); set REDIS_URL to use your own',
  );
  return { url: embedded.url, embedded };
}
