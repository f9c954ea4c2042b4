// A droidworks worker in its own process, for tests that SIGKILL it mid-run.
// Configuration comes from the environment, exactly as `droidworks worker` reads it.
import { createContext } from '../../src/cli/context.js';
import { serveWorker } from '../../src/cli/serve-worker.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { createLogger } from '../../src/util/logger.js';

const config = loadConfig(process.env, { require: ['worker'] });
const logger = createLogger({ level: 'warn', destination: process.stderr });
const redis = createRedisConnection(config.redisUrl!, { role: 'worker' });
const services = createContext(config, logger, redis);
await serveWorker({
  services,
  redisUrl: config.redisUrl!,
  redis,
  lockDurationMs: Number(process.env.TEST_LOCK_MS ?? 30_000),
});
process.stdout.write('worker ready\n');
