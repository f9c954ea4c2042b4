import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from './context.js';
import { serveGateway, type RunningGateway } from './serve-gateway.js';
import { serveWorker, type RunningWorker } from './serve-worker.js';
import { loadConfig, type Config } from '../config/load-config.js';
import type { RunServices } from '../engine/run-context.js';
import { startForge, type Forge } from '../demo/forge/start-forge.js';
import type { ModelRouter } from '../models/router.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../queue/embedded-redis.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import type { Logger } from '../util/logger.js';
import { SAMPLE_REPO } from '../demo/sample-repo.js';

export interface StackOptions {
  readonly logger: Logger;
  /** Use this Redis; otherwise an embedded one is started. */
  readonly redisUrl?: string;
  /** Extra settings (model keys and base URLs, budgets, sandbox…), as environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** A model router to use instead of the configured providers (the scripted demo model). */
  readonly models?: ModelRouter;
  /** Run lock duration (tests shorten it to see a killed worker's run resumed quickly). */
  readonly lockDurationMs?: number;
  /** Start no worker (a test starts its own, e.g. in a child process). */
  readonly noWorker?: boolean;
}

/**
 * A whole droidworks installation on loopback: Redis, a local GitHub-compatible forge seeded with
 * the sample repository (and a GitHub App), and droidworks' gateway and worker pointed at it.
 * `droidworks demo` runs it; the end-to-end tests drive it.
 */
export interface Stack {
  readonly forge: Forge;
  readonly config: Config;
  readonly env: Readonly<Record<string, string>>;
  readonly redisUrl: string;
  readonly services: RunServices | undefined;
  readonly gateway: RunningGateway;
  readonly repo: { readonly owner: string; readonly name: string; readonly full: string };
  /** Users on the forge: `alice` can write, `rita` can only read. */
  readonly users: { readonly alice: string; readonly rita: string };
  startWorker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        o.logger.warn({ err }, 'error while stopping the stack; continuing');
      }
    }
  };
  try {
    let embedded: EmbeddedRedis | undefined;
    if (!o.redisUrl) {
      embedded = await startEmbeddedRedis();
      closers.push(() => embedded!.stop());
    }
    const redisUrl = o.redisUrl ?? embedded!.url;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const forge = await startForge({
      appId: 1,
      privateKey: pem,
      appSlug: 'droidworks',
      logger: o.logger.child({ component: 'forge' }),
    });
    closers.push(() => forge.close());

    const { owner, name } = SAMPLE_REPO;
    await forge.createRepo({
      owner,
      name,
      files: SAMPLE_REPO.files,
      description: 'droidworks demo repository',
    });
    forge.createUser('alice', { name: 'Alice Writer' });
    forge.createUser('rita', { name: 'Rita Reader' });
    forge.setPermission(`${owner}/${name}`, 'alice', 'write');
    forge.setPermission(`${owner}/${name}`, 'rita', 'read');

    const dataDir = await mkdtemp(join(tmpdir(), 'dw-stack-'));
    const secret = randomBytes(16).toString('hex');
    const env: Record<string, string> = {
      GITHUB_API_URL: forge.url,
      GITHUB_APP_ID: '1',
      GITHUB_PRIVATE_KEY: pem,
      GITHUB_WEBHOOK_SECRET: secret,
      DROIDWORKS_BOT_LOGIN: 'droidworks[bot]',
      REDIS_URL: redisUrl,
      DROIDWORKS_QUEUE_PREFIX: `dw${randomBytes(3).toString('hex')}`,
      DROIDWORKS_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: o.logger.level,
      ...o.env,
    };
    const config = loadConfig(env, { require: ['gateway', 'worker'] });
    const tracing = config.tracing.url
      ? (await import('../telemetry/start-tracing.js')).startTracing(config.tracing, o.logger)
      : undefined;
    if (tracing) closers.push(() => tracing.shutdown());

    let services: RunServices | undefined;
    const startWorker = async (): Promise<RunningWorker> => {
      const redis = createRedisConnection(redisUrl, { role: 'worker' });
      const built = createContext(config, o.logger, redis, { models: o.models });
      services ??= built;
      const worker = await serveWorker({
        services: built,
        redisUrl,
        redis,
        lockDurationMs: o.lockDurationMs,
        tracer: tracing?.tracer,
      });
      let closed = false;
      const handle = {
        async close() {
          if (closed) return;
          closed = true;
          await worker.close();
          redis.disconnect();
        },
      };
      closers.push(() => handle.close());
      return handle;
    };
    if (!o.noWorker) await startWorker();
    const gateway = await serveGateway({ config, redisUrl, logger: o.logger, tracer: tracing?.tracer });
    closers.push(() => gateway.close());
    forge.webhooks.configure({ url: `${gateway.url}/webhooks/github`, secret });

    return {
      forge,
      config,
      env,
      redisUrl,
      get services() {
        return services;
      },
      gateway,
      repo: { owner, name, full: `${owner}/${name}` },
      users: { alice: 'alice', rita: 'rita' },
      startWorker,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
