import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/queue/embedded-redis.js';

export { freePort } from '../../src/queue/embedded-redis.js';
export type SpawnedRedis = EmbeddedRedis;

/** Starts a private `redis-server` for tests on a free loopback port, nothing kept on disk. */
export function spawnRedis(): Promise<SpawnedRedis> {
  return startEmbeddedRedis();
}
