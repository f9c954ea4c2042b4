import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { authEnv, runGit } from '../workspace/run-git.js';

/**
 * A bare mirror of a repository for evaluation, made or refreshed from `cloneUrl` (the URL is given
 * on every fetch, never stored, so it follows the configuration). The token travels in git's
 * environment for that one command only. Returns the mirror's path.
 */
export async function mirrorRepository(o: {
  readonly cloneUrl: string;
  readonly dir: string;
  readonly token?: string;
  readonly signal?: AbortSignal;
}): Promise<string> {
  const auth = o.token ? authEnv(o.token) : { env: {}, secrets: [] };
  const exists = await access(join(o.dir, 'HEAD')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(dirname(o.dir), { recursive: true });
    await runGit(['init', '-q', '--bare', o.dir], { signal: o.signal });
  }
  await runGit(
    [
      '-C',
      o.dir,
      'fetch',
      '-q',
      '--prune',
      o.cloneUrl,
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*',
    ],
    {
      env: auth.env,
      secrets: auth.secrets,
      signal: o.signal,
    },
  );
  return o.dir;
}
