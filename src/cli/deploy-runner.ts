import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load-config.js';
import type { DeployContainerRunner } from '../deploy/deploy-services.js';
import type { GitHubHost } from '../github/types.js';
import { runDeployContainer } from '../sandbox/run-deploy-container.js';
import { authEnv, runGit } from '../workspace/run-git.js';

const USER = { uid: 1000, gid: 1000 };

/**
 * `command` deployers and health checks: the repository checked out at the SHA on the host (git
 * credentials stay on the host), then a fresh container with network on that sees only the
 * checkout and the environment it is given.
 */
export function dockerDeployRunner(
  config: Config,
  github: GitHubHost,
  cloneUrl: (owner: string, repo: string) => string,
): DeployContainerRunner {
  return async (input) => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-deploy-'));
    try {
      const { token } = await github.getGitToken(input.repo, { signal: input.signal });
      const auth = authEnv(token);
      const git = { env: auth.env, secrets: auth.secrets, signal: input.signal, timeoutMs: 300_000 };
      await runGit(
        ['clone', '--quiet', '--no-checkout', cloneUrl(input.repo.owner, input.repo.repo), dir],
        git,
      );
      await runGit(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', input.sha], {
        ...git,
        cwd: dir,
      });
      if (process.getuid?.() === 0) await chownTree(dir);
      return await runDeployContainer(
        {
          image: input.image,
          checkoutDir: dir,
          command: input.command,
          env: input.env,
          network: config.deploy.network,
          namespace: config.queuePrefix,
          user: USER,
          memoryMb: config.sandbox.memoryMb,
          pids: config.sandbox.pids,
        },
        { timeoutMs: input.timeoutMs, signal: input.signal },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

async function chownTree(dir: string): Promise<void> {
  await chown(dir, USER.uid, USER.gid);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    await chown(join(entry.parentPath, entry.name), USER.uid, USER.gid);
}
