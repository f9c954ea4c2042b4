import type { Config } from '../config/load-config.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { checkGitHubAccess } from '../github/reachability.js';
import { openRedis } from '../queue/redis-connection.js';
import { checkDocker } from '../sandbox/check-docker.js';
import type { Logger } from '../util/logger.js';
import { buildRunnerImageCommand } from './package-files.js';

/** What a process half needs before it may say "ready". */
export interface PreflightNeeds {
  /** Check `REDIS_URL` answers (an embedded Redis is checked by starting it). */
  readonly redis: boolean;
  /** Check the Docker engine (docker sandbox backend only) and the runner image. */
  readonly docker: boolean;
  /** Call GitHub once with the configured credentials. */
  readonly github: boolean;
}

/** Bounds every check so a process that cannot start says so within seconds. */
const TIMEOUT_MS = 5000;

/**
 * Checks what `needs` names, in order (Redis, Docker, GitHub), and throws the first failure as one
 * error whose message says which setting to fix. Nothing is left running either way.
 */
export async function preflight(config: Config, needs: PreflightNeeds, logger: Logger): Promise<void> {
  if (needs.redis && config.redisUrl) {
    const redis = await openRedis(config.redisUrl, { role: 'producer', timeoutMs: TIMEOUT_MS });
    redis.disconnect();
  }
  if (needs.docker && config.sandbox.backend === 'docker') {
    const docker = await checkDocker(config.sandbox, { timeoutMs: TIMEOUT_MS });
    if (!docker.imagePresent)
      logger.warn(
        { image: config.sandbox.image },
        `the runner image is missing from the Docker engine: runs will fail until it is built (${buildRunnerImageCommand()}), or set DROIDWORKS_RUNNER_IMAGE`,
      );
  }
  if (needs.github && config.github.auth) {
    // One attempt with a short timeout: the adapter's retries are for runs, not for start-up.
    const host = createGitHubHost(config.github, { retry: { retries: 0 }, timeoutMs: TIMEOUT_MS, logger });
    const login = await checkGitHubAccess(host, config.github.apiUrl, config.github.auth.kind);
    logger.info({ login, apiUrl: config.github.apiUrl }, 'GitHub credentials work');
  }
}
