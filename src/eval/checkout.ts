import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  await writeFile(patchFile, patch);
  await hostGit(dir, ['apply', '--whitespace=nowarn', patchFile], signal);
  await giveToSandbox(dir);
}

/** The Docker sandbox runs commands as uid 1000: the checkout must be theirs to edit. */
export async function giveToSandbox(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await exec('chown', ['-R', '1000:1000', dir]);
}

/**
 * A file's text at `commit` in the repository at `source` (a local clone or mirror), or undefined
 * when the commit has no such file.
 */
export async function readFileAt(
  source: string,
  commit: string,
  path: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const listed = await hostGit(source, ['ls-tree', '--name-only', commit, '--', path], signal);
  if (listed.trim() !== path) return undefined;
  return hostGit(source, ['show', `${commit}:${path}`], signal);
}

/** The paths a unified diff touches (both sides of renames), from its `diff --git` headers. Pure. */
export function patchPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const m of patch.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) {
    paths.add(m[1]!);
    paths.add(m[2]!);
  }
  return [...paths];
}

/**
 * Puts the files a test patch touches back as they were at `base` (removing those `base` did not
 * have), so the hidden tests replace whatever the droid wrote there, as SWE-bench's harness does.
 */
export async function resetToBase(
  dir: string,
  base: string,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  if (paths.length === 0) return;
  const inBase = new Set(
    (await hostGit(dir, ['ls-tree', '-r', '--name-only', base, '--', ...paths], signal))
      .split('\n')
      .filter(Boolean),
  );
  const known = paths.filter((p) => inBase.has(p));
  if (known.length) await hostGit(dir, ['checkout', base, '--', ...known], signal);
  for (const p of paths.filter((p) => !inBase.has(p))) {
    await hostGit(dir, ['rm', '-q', '--cached', '--ignore-unmatch', '--', p], signal);
    await rm(join(dir, p), { force: true });
  }
}
