import type { Config } from '../config/load-config.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { checkGitHubAccess } from '../github/reachability.js';
import type { WorkerReadinessCheck } from './serve-worker-metrics.js';

export interface GitHubReadinessOptions {
  /** How long a successful check is trusted before GitHub is asked again. @defaultValue 30000 */
  readonly ttlMs?: number;
  /** @defaultValue 3000 */
  readonly timeoutMs?: number;
}

/**
 * The worker's `/readyz` check of GitHub: one authenticated call ("who am I") through a fresh
 * client without retries, so it reaches GitHub every time rather than the long-lived client's
 * cached login. A success is trusted for `ttlMs`, so a probe every few seconds costs GitHub at most
 * two calls a minute; a failure is never cached. The error says which of unreachable, refused or
 * rejected credentials it is (as `doctor` and the start-up check say it).
 */
export function githubReadiness(
  github: Config['github'],
  options: GitHubReadinessOptions = {},
): WorkerReadinessCheck {
  const ttlMs = options.ttlMs ?? 30_000;
  let okUntil = 0;
  return {
    name: 'github',
    async check(signal) {
      if (Date.now() < okUntil) return;
      if (!github.auth) throw new Error('no GitHub credentials (GITHUB_TOKEN or GITHUB_APP_ID)');
      const host = createGitHubHost(github, { retry: { retries: 0 }, timeoutMs: options.timeoutMs ?? 3000 });
      await checkGitHubAccess(host, github.apiUrl, github.auth.kind, signal);
      okUntil = Date.now() + ttlMs;
    },
  };
}
