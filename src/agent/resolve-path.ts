import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A tool path that would leave the workspace. The message is written for the model. */
export class PathEscapeError extends Error {
  override readonly name = 'PathEscapeError';
  constructor(readonly path: string) {
    super(
      `path "${path}" is outside the repository; use a path relative to the repository root (for example "src/index.ts")`,
    );
  }
}

export interface ResolvedPath {
  /** Absolute host path, symlinks resolved. */
  readonly abs: string;
  /** Path relative to the workspace root, with `/` separators (`.` for the root). */
  readonly rel: string;
}

/**
 * Resolves a path the model gave inside the workspace: relative paths are taken from the root;
 * absolute paths must lie inside the root or under one of `aliases` (e.g. `/workspace`, where the
 * sandbox mounts it). `..`, outside absolute paths and symlinks pointing out are refused with
 * {@link PathEscapeError}. `root` must already be a real path (see `realpath`).
 */
export async function resolveInWorkspace(
  root: string,
  input: string,
  aliases: readonly string[] = [],
): Promise<ResolvedPath> {
  let lexical: string;
  const alias = aliases.find((a) => input === a || input.startsWith(a.endsWith('/') ? a : `${a}/`));
  if (alias) lexical = resolve(root, `.${input.slice(alias.length).replace(/^\/?/, '/')}`);
  else if (isAbsolute(input)) lexical = resolve(input);
  else lexical = resolve(root, input);
  if (!isInside(root, lexical)) throw new PathEscapeError(input);

  // Follow symlinks on the longest existing prefix (the file itself may not exist yet).
  let existing = lexical;
  let rest = '';
  for (;;) {
    try {
      const real = await realpath(existing);
      const abs = rest ? join(real, rest) : real;
      if (!isInside(root, abs)) throw new PathEscapeError(input);
      return { abs, rel: relative(root, abs).split(sep).join('/') || '.' };
    } catch (err) {
      if (err instanceof PathEscapeError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = dirname(existing);
      if (parent === existing) throw new PathEscapeError(input);
      rest = rest ? join(existing.slice(parent.length + 1), rest) : existing.slice(parent.length + 1);
      existing = parent;
    }
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
