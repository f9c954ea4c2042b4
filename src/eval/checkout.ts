import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** git on the host over a checkout that may belong to the sandbox user. */
export async function hostGit(dir: string, args: string[], signal?: AbortSignal): Promise<string> {
  const { stdout } = await exec('git', ['-c', 'safe.directory=*', '-C', dir, ...args], {
    signal,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Clones `source` (a local mirror or URL) into the empty `dir` and checks out `commit`, detached. */
export async function checkoutAt(
  source: string,
  dir: string,
  commit: string,
  signal?: AbortSignal,
): Promise<void> {
  await exec('git', ['clone', '-q', '--no-checkout', source, dir], { signal, maxBuffer: 16 * 1024 * 1024 });
  await hostGit(dir, ['checkout', '-q', '--detach', commit], signal);
  await giveToSandbox(dir);
}

/** Applies a patch file to the checkout (no-op for an empty patch). */
export async function applyPatch(
  dir: string,
  patch: string,
  patchFile: string,
  signal?: AbortSignal,
): Promise<void> {
  if (patch.trim() === '') return;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(patchFile, patch);
  await hostGit(dir, ['apply', '--whitespace=nowarn', patchFile], signal);
  await giveToSandbox(dir);
}

/** The Docker sandbox runs commands as uid 1000: the checkout must be theirs to edit. */
export async function giveToSandbox(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await exec('chown', ['-R', '1000:1000', dir]);
}
