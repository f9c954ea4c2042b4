import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lchown, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from '../util/logger.js';
import { isDroidBranch } from './branch-name.js';
import { ChownError, GitError, PushRejectedError } from './errors.js';
import { withMirrorLock } from './mirror-lock.js';
import { authEnv, runGit, type RunGitOptions } from './run-git.js';

export interface WorkspaceManagerOptions {
  /** Mirrors go to `<dataDir>/mirrors/<owner>/<repo>.git`, worktrees to `<dataDir>/worktrees/`. */
  readonly dataDir: string;
  /** Clone URL without credentials, e.g. `(o, r) => \`https://github.com/${o}/${r}.git\``. */
  readonly cloneUrl: (owner: string, repo: string) => string;
  /** Fresh token per git command (installation tokens rotate). */
  readonly getToken: (owner: string, repo: string) => Promise<string>;
  /** Author and committer of the droid's commits (config `git`). */
  readonly git: { readonly authorName: string; readonly authorEmail: string };
  readonly logger: Logger;
  /** Per git command. @defaultValue 600000 */
  readonly timeoutMs?: number;
  /** Try a blob-less partial clone (servers without support fall back to a full one). @defaultValue true */
  readonly partialClone?: boolean;
  /**
   * Spare worktrees kept checked out per repository (config `DROIDWORKS_WORKTREE_SPARES`): after a
   * run's checkout, another one is made in the background, and the next run of that repository
   * adopts it and checks out only what changed since. Spares are kept for the 8 repositories used
   * last. @defaultValue 0
   */
  readonly spares?: number;
}

export interface PrepareOptions {
  readonly runId: string;
  readonly owner: string;
  readonly repo: string;
  /** Branch the run works on, e.g. `droidBranch(issue, title)`. */
  readonly branch: string;
  /**
   * `new`: create `branch` from `base` (reset if it exists locally); `existing`: check out the
   * remote `branch` (a PR iteration). @defaultValue `new`
   */
  readonly mode?: 'new' | 'existing';
  /** Base branch for `new`. @defaultValue the remote's default branch */
  readonly base?: string;
  /** Empty or missing directory to put the worktree in (e.g. `sandbox.workspaceDir`). @defaultValue under `<dataDir>/worktrees` */
  readonly dir?: string;
  /** chown the checkout to this user so the sandbox can write it. */
  readonly fileOwner?: { readonly uid: number; readonly gid: number } | undefined;
  readonly signal?: AbortSignal;
}

export interface PushResult {
  /** Head commit on the remote branch after the push. */
  readonly sha: string;
  /** False when there was nothing to commit or push. */
  readonly pushed: boolean;
  readonly rebased: boolean;
}

/** One run's checkout. Every git command runs on the host with `--git-dir`/`--work-tree` (the worktree's own `.git` file is never trusted). */
export interface Workspace {
  readonly runId: string;
  readonly dir: string;
  readonly branch: string;
  /** Commit the branch started from. */
  readonly baseSha: string;
  /** Stages everything, commits (when anything changed) as the configured identity and pushes. */
  commitAndPush(options: { message: string; signal?: AbortSignal }): Promise<PushResult>;
  /** Unified diff of the working tree against `baseSha` (untracked files included). */
  diff(signal?: AbortSignal): Promise<string>;
  /** Removes the worktree and its local branch. Idempotent. */
  release(signal?: AbortSignal): Promise<void>;
}

export interface WorkspaceManager {
  prepare(options: PrepareOptions): Promise<Workspace>;
  /**
   * Removes worktrees (and their branches) whose run `isLive` denies, and spares of worker processes
   * that are gone. Returns their run ids.
   */
  sweep(isLive: (runId: string) => boolean | Promise<boolean>, signal?: AbortSignal): Promise<string[]>;
  /** Resolves once no spare worktree is being made (tests, benchmarks). */
  settled(): Promise<void>;
  /** Removes this manager's spare worktrees. */
  close(): Promise<void>;
}

const MARKER = 'droidworks-run.json';
/** Repositories whose spares are kept; the least recently used one loses its spares first. */
const SPARE_REPOS = 8;
/** Run id of a spare in its marker: `spare:<host>:<pid>:<hex>`, so a sweep knows whose it is. */
const SPARE_PREFIX = `spare:${hostname()}:`;

/** A worktree checked out ahead of the run that will adopt it. */
interface Spare {
  readonly dir: string;
  readonly adminDir: string;
  readonly sha: string;
  readonly fileOwner: { readonly uid: number; readonly gid: number } | undefined;
}

interface RepoSpares {
  readonly ready: Spare[];
  creating: number;
}

/**
 * Git mirrors and per-run worktrees. A bare, blob-less mirror per repository is fetched under a
 * per-mirror lock; each run gets `git worktree add` on its branch, so preparing a run costs the
 * new objects only. Credentials go to git per command in the environment.
 */
export function createWorkspaceManager(options: WorkspaceManagerOptions): WorkspaceManager {
  const log = options.logger.child({ component: 'workspace' });
  const mirrorsRoot = join(resolve(options.dataDir), 'mirrors');
  const worktreesRoot = join(resolve(options.dataDir), 'worktrees');
  const timeoutMs = options.timeoutMs ?? 600_000;

  const auth = async (owner: string, repo: string) => authEnv(await options.getToken(owner, repo));
  const git = (args: string[], o: RunGitOptions) => runGit(args, { timeoutMs, ...o });

  /** Creates the mirror on first use, otherwise fetches. Caller holds the lock. */
  async function refreshMirror(
    owner: string,
    repo: string,
    mirror: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const { env, secrets } = await auth(owner, repo);
    const exists = await readFile(join(mirror, 'HEAD'), 'utf8').then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    // The remote follows the configuration on every use: GITHUB_API_URL may have changed since the
    // mirror was cloned (a new GHES host name, a proxy, a test server on another port).
    if (exists)
      await git(['--git-dir', mirror, 'config', 'remote.origin.url', options.cloneUrl(owner, repo)], {});
    else {
      const tmp = `${mirror}.tmp-${randomBytes(4).toString('hex')}`;
      await mkdir(dirname(mirror), { recursive: true });
      try {
        await git(
          [
            'clone',
            '--mirror',
            ...(options.partialClone === false ? [] : ['--filter=blob:none']),
            '--no-tags',
            options.cloneUrl(owner, repo),
            tmp,
          ],
          { env, secrets, signal },
        );
        // A pure mirror's fetch would overwrite the branches worktrees have checked out, and
        // prune the ones not pushed yet: track the remote under refs/remotes/origin/ instead.
        await git(['--git-dir', tmp, 'config', '--unset-all', 'remote.origin.mirror'], { okExitCodes: [5] });
        await git(
          [
            '--git-dir',
            tmp,
            'config',
            '--replace-all',
            'remote.origin.fetch',
            '+refs/heads/*:refs/remotes/origin/*',
          ],
          {},
        );
        await git(['--git-dir', tmp, 'config', 'core.logAllRefUpdates', 'false'], {});
        await rename(tmp, mirror);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    }
    await git(['--git-dir', mirror, 'fetch', '--prune', '--no-tags', 'origin'], { env, secrets, signal });
  }

  async function prepare(p: PrepareOptions): Promise<Workspace> {
    p.signal?.throwIfAborted();
    const runLog = log.child({ runId: p.runId, repo: `${p.owner}/${p.repo}`, branch: p.branch });
    const mirror = join(mirrorsRoot, safeSegment(p.owner), `${safeSegment(p.repo)}.git`);
    const dir = p.dir
      ? resolve(p.dir)
      : join(
          worktreesRoot,
          safeSegment(p.owner),
          safeSegment(p.repo),
          `${safeSegment(p.runId)}.${randomBytes(3).toString('hex')}`,
        );
    const started = performance.now();
    const mode = p.mode ?? 'new';

    const { adminDir, baseSha, chowned } = await withMirrorLock(
      mirror,
      async () => {
        await refreshMirror(p.owner, p.repo, mirror, p.signal);
        const fetched = performance.now();
        let start: string;
        if (mode === 'existing') start = `refs/remotes/origin/${p.branch}`;
        else if (p.base) start = `refs/remotes/origin/${p.base}`;
        else {
          const head = (await git(['--git-dir', mirror, 'symbolic-ref', 'HEAD'], {})).stdout.trim();
          start = head.replace(/^refs\/heads\//, 'refs/remotes/origin/');
        }
        const baseSha = (
          await git(['--git-dir', mirror, 'rev-parse', '--verify', `${start}^{commit}`], {})
        ).stdout.trim();
        await mkdir(dirname(dir), { recursive: true });
        // Blobs of a partial clone are fetched during checkout, so this needs credentials too.
        const { env, secrets } = await auth(p.owner, p.repo);
        const spare = takeSpare(mirror);
        const adopted = spare && (await adoptSpare(spare, dir, p, baseSha, env, secrets, runLog));
        if (!adopted)
          await git(['--git-dir', mirror, 'worktree', 'add', '--no-track', '-B', p.branch, dir, baseSha], {
            env,
            secrets,
            signal: p.signal,
          });
        runLog.debug(
          {
            fetchMs: Math.round(fetched - started),
            worktreeMs: Math.round(performance.now() - fetched),
            spare: Boolean(adopted),
          },
          'workspace mirror fetched and worktree added',
        );
        const adminDir = await adminDirOf(dir);
        await writeFile(join(adminDir, MARKER), JSON.stringify({ runId: p.runId, branch: p.branch, dir }));
        return { adminDir, baseSha, chowned: Boolean(adopted) };
      },
      { signal: p.signal },
    );
    if (p.fileOwner && !chowned) await chownTree(dir, p.fileOwner, p.signal);
    runLog.info({ ms: Math.round(performance.now() - started), baseSha }, 'workspace ready');
    makeSpares(p.owner, p.repo, mirror, p.fileOwner);

    const wt = ['--git-dir', adminDir, '--work-tree', dir];
    const identity = {
      GIT_AUTHOR_NAME: options.git.authorName,
      GIT_AUTHOR_EMAIL: options.git.authorEmail,
      GIT_COMMITTER_NAME: options.git.authorName,
      GIT_COMMITTER_EMAIL: options.git.authorEmail,
    };
    let released: Promise<void> | undefined;

    const push = async (signal?: AbortSignal) => {
      const { env, secrets } = await auth(p.owner, p.repo);
      const remoteRef = `refs/remotes/origin/${p.branch}`;
      const known = await git([...wt, 'rev-parse', '--verify', '--quiet', remoteRef], { okExitCodes: [1] });
      const expected = known.exitCode === 0 ? known.stdout.trim() : '';
      const args = [...wt, 'push', '--porcelain', '--no-verify'];
      if (isDroidBranch(p.branch)) args.push(`--force-with-lease=refs/heads/${p.branch}:${expected}`);
      args.push('origin', `HEAD:refs/heads/${p.branch}`);
      const r = await git(args, { cwd: dir, env, secrets, signal, okExitCodes: [1] });
      // Porcelain: one line per ref, flag `!` means rejected.
      const rejected = r.stdout.split('\n').find((l) => l.startsWith('!\t'));
      return { ok: r.exitCode === 0 && !rejected, detail: rejected ?? r.stderr.trim() };
    };

    const workspace: Workspace = {
      runId: p.runId,
      dir,
      branch: p.branch,
      baseSha,
      async commitAndPush({ message, signal }) {
        await git([...wt, 'add', '-A'], { cwd: dir, signal });
        const staged = await git([...wt, 'diff', '--cached', '--quiet'], {
          cwd: dir,
          signal,
          okExitCodes: [1],
        });
        if (staged.exitCode === 1)
          await git([...wt, 'commit', '--no-verify', '-q', '-m', message], {
            cwd: dir,
            env: identity,
            signal,
          });
        const head = (await git([...wt, 'rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
        if (head === baseSha && mode === 'new') return { sha: head, pushed: false, rebased: false };
        let result = await push(signal);
        let rebased = false;
        if (!result.ok) {
          runLog.warn({ detail: result.detail }, 'push rejected; rebasing once onto the remote branch');
          await withMirrorLock(mirror, () => refreshMirror(p.owner, p.repo, mirror, signal), { signal });
          const onto = `refs/remotes/origin/${p.branch}`;
          const exists = await git([...wt, 'rev-parse', '--verify', '--quiet', onto], { okExitCodes: [1] });
          if (exists.exitCode === 0) {
            try {
              await git([...wt, 'rebase', onto], { cwd: dir, env: identity, signal });
            } catch (err) {
              if (!(err instanceof GitError)) throw err;
              await git([...wt, 'rebase', '--abort'], { cwd: dir, okExitCodes: [128] });
              throw new PushRejectedError(
                p.branch,
                `rebase onto the remote branch failed: ${err.stderr.trim()}`,
              );
            }
          }
          rebased = true;
          result = await push(signal);
          if (!result.ok) throw new PushRejectedError(p.branch, result.detail);
        }
        const sha = (await git([...wt, 'rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
        runLog.info({ sha, rebased }, 'workspace pushed');
        return { sha, pushed: true, rebased };
      },
      async diff(signal) {
        await git([...wt, 'add', '-A', '--intent-to-add'], { cwd: dir, signal });
        return (await git([...wt, 'diff', baseSha], { cwd: dir, signal })).stdout;
      },
      release(signal) {
        released ??= withMirrorLock(mirror, () => removeWorktree(mirror, dir, p.branch, signal), {
          signal,
        }).then(() => runLog.debug('workspace released'));
        return released;
      },
    };
    return workspace;
  }

  const spares = new Map<string, RepoSpares>();
  const making = new Set<Promise<void>>();
  let closed = false;

  function takeSpare(mirror: string): Spare | undefined {
    const entry = spares.get(mirror);
    if (!entry) return undefined;
    // Most recently used last: the first key is the one to evict.
    spares.delete(mirror);
    spares.set(mirror, entry);
    return entry.ready.shift();
  }

  /**
   * Moves a spare into `dir` and checks out the run's branch there: only files that differ between
   * the spare's commit and `baseSha` are written (and handed to `fileOwner`). False, with the spare
   * removed, when it cannot be used; the caller then adds a worktree the ordinary way.
   */
  async function adoptSpare(
    spare: Spare,
    dir: string,
    p: PrepareOptions,
    baseSha: string,
    env: Record<string, string>,
    secrets: readonly string[],
    runLog: Logger,
  ): Promise<boolean> {
    try {
      if ((await listDir(dir)).length > 0) {
        // Someone else's files are there: leave them, and remove the spare (it was taken from the pool).
        runLog.warn({ dir }, 'workspace target is not empty; a spare worktree cannot be used there');
        await discardSpare(spare, runLog);
        return false;
      }
      if (existsSync(dir)) {
        // `dir` may be a bind-mount source (the sandbox's workspace): fill it, never replace it.
        for (const name of await readdir(spare.dir)) await rename(join(spare.dir, name), join(dir, name));
        await rmdir(spare.dir);
      } else await rename(spare.dir, dir);
      await writeFile(join(spare.adminDir, 'gitdir'), `${join(dir, '.git')}\n`);
      const wt = ['--git-dir', spare.adminDir, '--work-tree', dir];
      await git([...wt, 'checkout', '-q', '--no-track', '-B', p.branch, baseSha], {
        cwd: dir,
        env,
        secrets,
        signal: p.signal,
      });
      const sameOwner =
        spare.fileOwner?.uid === p.fileOwner?.uid && spare.fileOwner?.gid === p.fileOwner?.gid;
      if (p.fileOwner && !sameOwner) await chownTree(dir, p.fileOwner, p.signal);
      else if (p.fileOwner && spare.sha !== baseSha) {
        const changed = await git([...wt, 'diff', '--name-only', '--no-renames', '-z', spare.sha, baseSha], {
          cwd: dir,
        });
        await chownPaths(dir, changed.stdout.split('\0').filter(Boolean), p.fileOwner);
      }
      return true;
    } catch (err) {
      runLog.warn({ err }, 'workspace could not adopt a spare worktree; adding one');
      await discardSpare(spare, runLog);
      // Whatever was moved into `dir` goes too, so the ordinary path starts from an empty directory.
      for (const name of await listDir(dir)) await rm(join(dir, name), { recursive: true, force: true });
      return false;
    }
  }

  /** Removes a spare taken from the pool that will not be used (logged, never thrown: the sweep retries). */
  async function discardSpare(spare: Spare, runLog: Logger): Promise<void> {
    await removeWorktree(dirname(dirname(spare.adminDir)), spare.dir, undefined).catch((err: unknown) =>
      runLog.warn({ err, dir: spare.dir }, 'workspace could not remove a spare worktree; the sweep will'),
    );
  }

  /** Tops the repository's spares up in the background, from the mirror the run just fetched. */
  function makeSpares(
    owner: string,
    repo: string,
    mirror: string,
    fileOwner: { uid: number; gid: number } | undefined,
  ): void {
    const wanted = options.spares ?? 0;
    if (wanted <= 0 || closed) return;
    let entry = spares.get(mirror);
    if (!entry) {
      entry = { ready: [], creating: 0 };
      spares.set(mirror, entry);
      if (spares.size > SPARE_REPOS) {
        const [oldest, evicted] = spares.entries().next().value as [string, RepoSpares];
        spares.delete(oldest);
        for (const s of evicted.ready.splice(0)) void dropSpare(oldest, s);
      }
    }
    while (entry.ready.length + entry.creating < wanted) {
      entry.creating++;
      const task = makeSpare(owner, repo, mirror, fileOwner)
        .then(async (spare) => {
          if (closed || spares.get(mirror) !== entry) await dropSpare(mirror, spare);
          else entry.ready.push(spare);
        })
        .catch((err: unknown) =>
          log.warn({ err, repo: `${owner}/${repo}` }, 'workspace could not make a spare'),
        )
        .finally(() => {
          entry.creating--;
          making.delete(task);
        });
      making.add(task);
    }
  }

  async function makeSpare(
    owner: string,
    repo: string,
    mirror: string,
    fileOwner: { uid: number; gid: number } | undefined,
  ): Promise<Spare> {
    const suffix = randomBytes(4).toString('hex');
    const dir = join(worktreesRoot, safeSegment(owner), safeSegment(repo), `spare.${suffix}`);
    // Only the registration holds the lock; writing the files does not block other runs.
    const { adminDir, sha } = await withMirrorLock(mirror, async () => {
      const head = (await git(['--git-dir', mirror, 'symbolic-ref', 'HEAD'], {})).stdout.trim();
      const start = head.replace(/^refs\/heads\//, 'refs/remotes/origin/');
      const sha = (
        await git(['--git-dir', mirror, 'rev-parse', '--verify', `${start}^{commit}`], {})
      ).stdout.trim();
      await mkdir(dirname(dir), { recursive: true });
      await git(['--git-dir', mirror, 'worktree', 'add', '--no-checkout', '--detach', dir, sha], {});
      const adminDir = await adminDirOf(dir);
      const runId = `${SPARE_PREFIX}${process.pid}:${suffix}`;
      await writeFile(join(adminDir, MARKER), JSON.stringify({ runId, dir }));
      return { adminDir, sha };
    });
    const spare = { dir, adminDir, sha, fileOwner };
    try {
      const { env, secrets } = await auth(owner, repo);
      await git(['--git-dir', adminDir, '--work-tree', dir, 'reset', '-q', '--hard', sha], {
        cwd: dir,
        env,
        secrets,
      });
      if (fileOwner) await chownTree(dir, fileOwner);
      return spare;
    } catch (err) {
      await dropSpare(mirror, spare);
      throw err;
    }
  }

  async function dropSpare(mirror: string, spare: Spare): Promise<void> {
    await withMirrorLock(mirror, () => removeWorktree(mirror, spare.dir, undefined)).catch((err: unknown) =>
      log.warn({ err, dir: spare.dir }, 'workspace could not remove a spare; the start-up sweep will'),
    );
  }

  async function removeWorktree(
    mirror: string,
    dir: string,
    branch: string | undefined,
    signal?: AbortSignal,
  ) {
    // Deleting the directory then pruning works whatever state the sandbox left it in.
    await rm(dir, { recursive: true, force: true });
    await git(['--git-dir', mirror, 'worktree', 'prune'], { signal });
    if (branch)
      await git(['--git-dir', mirror, 'branch', '-D', branch], { signal, okExitCodes: [1] }).catch(
        (err: unknown) => {
          // A branch still checked out in another worktree (another run) is kept.
          if (!(err instanceof GitError)) throw err;
          log.warn({ branch, err: err.message }, 'workspace kept a branch it could not delete');
        },
      );
  }

  async function sweep(
    isLive: (runId: string) => boolean | Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const removed: string[] = [];
    for (const owner of await listDir(mirrorsRoot)) {
      for (const repo of await listDir(join(mirrorsRoot, owner))) {
        if (!repo.endsWith('.git')) continue;
        const mirror = join(mirrorsRoot, owner, repo);
        const adminRoot = join(mirror, 'worktrees');
        for (const name of await listDir(adminRoot)) {
          signal?.throwIfAborted();
          const marker = await readFile(join(adminRoot, name, MARKER), 'utf8').catch(
            (err: NodeJS.ErrnoException) => {
              if (err.code === 'ENOENT') return undefined;
              throw err;
            },
          );
          if (marker === undefined) continue;
          const data = JSON.parse(marker) as { runId: string; branch?: string; dir: string };
          if (data.runId.startsWith('spare:')) {
            if (spareOwnerAlive(data.runId)) continue;
          } else if (await isLive(data.runId)) continue;
          if (!isAbsolute(data.dir)) continue;
          await withMirrorLock(mirror, () => removeWorktree(mirror, data.dir, data.branch, signal), {
            signal,
          });
          removed.push(data.runId);
        }
        // A worker killed between `worktree add` and writing the marker leaves an unmarked entry;
        // once the sandbox sweep removed its directory, prune forgets it.
        await withMirrorLock(mirror, () => git(['--git-dir', mirror, 'worktree', 'prune'], { signal }), {
          signal,
        });
      }
    }
    if (removed.length > 0) log.info({ runs: removed }, 'workspace sweep removed worktrees of dead runs');
    return removed;
  }

  return {
    prepare,
    sweep,
    async settled() {
      while (making.size > 0) await Promise.allSettled([...making]);
    },
    async close() {
      closed = true;
      while (making.size > 0) await Promise.allSettled([...making]);
      const all = [...spares.entries()];
      spares.clear();
      for (const [mirror, entry] of all) for (const s of entry.ready.splice(0)) await dropSpare(mirror, s);
    },
  };
}

/** A spare belongs to a worker process that still runs on this host (so it is not a leftover). */
function spareOwnerAlive(runId: string): boolean {
  if (!runId.startsWith(SPARE_PREFIX)) return false;
  const pid = Number(runId.slice(SPARE_PREFIX.length).split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function adminDirOf(dir: string): Promise<string> {
  const dotGit = (await readFile(join(dir, '.git'), 'utf8')).trim();
  return resolve(dir, dotGit.replace(/^gitdir:\s*/, ''));
}

/** chown each path and the directories between it and `root` (those git may have created). */
async function chownPaths(
  root: string,
  paths: readonly string[],
  owner: { uid: number; gid: number },
): Promise<void> {
  const done = new Set<string>();
  for (const path of paths) {
    for (let p = join(root, path); relative(root, p) !== '' && !done.has(p); p = dirname(p)) {
      done.add(p);
      await lchown(p, owner.uid, owner.gid).catch((err: NodeJS.ErrnoException) => {
        // A file the new commit deletes.
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** One safe path segment from an owner, repo or run id. */
function safeSegment(s: string): string {
  const cleaned = s.replace(/[^a-zA-Z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return cleaned || '_';
}

function chownTree(dir: string, owner: { uid: number; gid: number }, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('chown', ['-R', `${owner.uid}:${owner.gid}`, '--', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new ChownError(dir, code, stderr))));
  });
}
