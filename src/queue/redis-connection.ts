import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /**
   * `producer` connections fail fast when Redis is away (the gateway answers 503 at once);
   * `worker` connections wait and reconnect, as BullMQ workers need (`maxRetriesPerRequest: null`).
   */
  readonly role: 'producer' | 'worker';
  /** @defaultValue 2000 ms for producers */
  readonly commandTimeoutMs?: number;
  /**
   * Connection errors (ioredis reconnects by itself; a command that cannot wait fails on its own).
   * Without any listener ioredis prints every reconnect failure as an "Unhandled error event"
   * stack trace, so one is always attached. @defaultValue keeps only the latest error, for {@link openRedis}
   */
  readonly onError?: (err: Error) => void;
  /** Do not connect until `connect()` is called (see {@link openRedis}). @defaultValue false */
  readonly lazyConnect?: boolean;
}

/** Redis cannot be reached at the configured URL; says which setting and which address. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
  constructor(
    /** `host:port` (never the password). */
    readonly address: string,
    /** The setting the URL came from, e.g. `REDIS_URL`. */
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot reach Redis at ${address} (${setting}): ${innermost(options?.cause)}. Start Redis there, or fix ${setting}${setting === 'REDIS_URL' ? ' (unset it to let `droidworks start` run an embedded redis-server)' : ''}.`,
      options,
    );
  }
}

/** `host:port` of a redis:// URL, without credentials. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`;
  } catch {
    // Not a URL at all: configuration validation rejects those; show nothing of it (it may hold a password).
    return '(unparseable URL)';
  }
}

/** One place that knows how droidworks connects to Redis (standalone URL; rediss:// for TLS). */
export function createRedisConnection(url: string, options: RedisConnectionOptions): Redis {
  const common: RedisOptions = {
    lazyConnect: options.lazyConnect ?? false,
    connectionName: `droidworks-${options.role}`,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const redis =
    options.role === 'producer'
      ? new Redis(url, {
          ...common,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: options.commandTimeoutMs ?? 2000,
          connectTimeout: 2000,
        })
      : new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true });
  redis.on('error', options.onError ?? (() => undefined));
  return redis;
}

export interface OpenRedisOptions extends RedisConnectionOptions {
  /** Give up connecting after this. @defaultValue 5000 */
  readonly timeoutMs?: number;
  /** Named in the error when Redis cannot be reached. @defaultValue `REDIS_URL` */
  readonly setting?: string;
}

/**
 * A connection that is ready for commands, or a {@link RedisUnreachableError} within
 * `timeoutMs` (and nothing left reconnecting). Use it where a process starts: a producer
 * connection refuses commands until it is ready, so commands sent right after
 * {@link createRedisConnection} fail with "Stream isn't writeable".
 */
export async function openRedis(url: string, options: OpenRedisOptions): Promise<Redis> {
  let lastError: Error | undefined;
  const redis = createRedisConnection(url, {
    ...options,
    lazyConnect: true,
    onError: (err) => {
      lastError = err;
      options.onError?.(err);
    },
  });
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(lastError ?? new Error(`no answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachableError(redisAddress(url), options.setting ?? 'REDIS_URL', {
      cause: lastError ?? err,
    });
  } finally {
    clearTimeout(timer);
  }
}

function innermost(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
    return e.message.replace(/\.+$/, '');
  }
  return String(e ?? 'unknown error');
}

/**
 * A BullMQ `Queue` re-emits the errors of the connection it was given; that connection's own
 * listener (see {@link createRedisConnection}) already reports them, so the queue's copy is not
 * reported twice, and not printed by BullMQ as a raw stack trace either.
 */
export function reportedByConnection(queue: {
  on(event: 'error', listener: (err: Error) => void): unknown;
}): void {
  queue.on('error', () => undefined);
}
