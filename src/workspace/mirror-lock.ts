import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { MirrorLockTimeoutError } from './errors.js';

const inProcess = new Map<string, Promise<unknown>>();

export interface LockOptions {
  readonly signal?: AbortSignal;
  /** @defaultValue 600000 */
  readonly timeoutMs?: number;
  /** A lock file older than this, or held by a dead process on this host, is taken over. @defaultValue 900000 */
  readonly staleMs?: number;
}

/**
 * Runs `fn` holding the mirror's lock: a promise chain within this process plus an exclusive
 * `<mirror>.lock` file across processes on the same data directory (content `<host> <pid>`).
 */
export async function withMirrorLock<T>(
  mirror: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const previous = inProcess.get(mirror) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const release = await lockFile(`${mirror}.lock`, options);
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  inProcess.set(mirror, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(mirror) === run) inProcess.delete(mirror);
  }
}

async function lockFile(path: string, options: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const staleMs = options.staleMs ?? 900_000;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${hostname()} ${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new MirrorLockTimeoutError(path);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - info.mtimeMs > staleMs) return true;
    const [host, pid] = content.trim().split(' ');
    if (host !== hostname() || !pid) return false;
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT: released meanwhile, try again; ESRCH: its process is gone.
    if (code === 'ENOENT') return false;
    if (code === 'ESRCH') return true;
    if (code === 'EPERM') return false;
    throw err;
  }
}
