import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /**
   * `producer` connections fail fast when Redis is away (the gateway answers 503 at once);
   * `worker` connections wait and reconnect, as BullMQ workers need (`maxRetriesPerRequest: null`).
   */
  readonly role: 'producer' | 'worker';
  /** @defaultValue 2000 ms for producers */
  readonly commandTimeoutMs?: number;
}

/** One place that knows how droidworks connects to Redis (standalone URL; rediss:// for TLS). */
export function createRedisConnection(url: string, options: RedisConnectionOptions): Redis {
  const common: RedisOptions = {
    lazyConnect: false,
    connectionName: `droidworks-${options.role}`,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  if (options.role === 'producer') {
    return new Redis(url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: 2000,
    });
  }
  return new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true });
}
