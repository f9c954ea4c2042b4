import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

/**
 * A lock file without an owner older than this is a leftover: older versions created the file,
 * then wrote its owner, and a process killed in between left it empty.
 */
const OWNERLESS_STALE_MS = 10_000;

async function lockFile(path: string, options: LockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const staleMs = options.staleMs ?? 900_000;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    options.signal?.throwIfAborted();
    // The owner is written first and the lock appears with it (a hard link fails if the lock
    // exists): no process, killed at any point, leaves a lock that names no owner.
    const candidate = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(candidate, `${hostname()} ${process.pid}\n`);
      await link(candidate, path);
      // Housekeeping only: a failure here must not leave the lock just taken held and unused.
      await removeStrayCandidates(path, candidate, staleMs).catch(() => undefined);
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(candidate, { force: true });
    }
    if (await isStale(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new MirrorLockTimeoutError(path);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
}

/**
 * Removes the candidates (`<lock>.<pid>.<hex>`) of processes killed between writing one and removing
 * it: this host's whose process is gone, another host's older than `staleMs`. Run by the lock's
 * holder; a waiter's candidate lives a few milliseconds and its process is alive.
 */
async function removeStrayCandidates(path: string, own: string, staleMs: number): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.[0-9a-f]{8}$/.test(name.slice(prefix.length))) continue;
    const file = join(dirname(path), name);
    if (file === own) continue;
    if (await isStale(file, staleMs)) await rm(file, { force: true });
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const age = Date.now() - info.mtimeMs;
    if (age > staleMs) return true;
    const [host, pid] = content.trim().split(' ');
    if (!host || !pid) return age > OWNERLESS_STALE_MS;
    if (host !== hostname()) return false;
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
