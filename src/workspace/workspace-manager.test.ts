import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleGitHttp } from '../demo/forge/git-http-server.js';
import { createLogger } from '../util/logger.js';
import { droidBranch } from './branch-name.js';
import { GitError } from './errors.js';
import { createWorkspaceManager, type WorkspaceManager } from './workspace-manager.js';

const run = promisify(execFile);
const TOKEN = 'ghs_' + 'T0kenForWorkspaceTests'.padEnd(36, 'x');
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@e',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@e',
};
const git = async (cwd: string, ...args: string[]) =>
  (await run('git', args, { cwd, env: gitEnv })).stdout.trim();

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('workspace manager (real git over smart HTTP)', () => {
  let root: string;
  let forgeRoot: string;
  let server: Server;
  let url = '';
  let logs = '';
  let manager: WorkspaceManager;
  let dataDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dw-ws-'));
    forgeRoot = join(root, 'forge');
    dataDir = join(root, 'data');
    const seed = join(root, 'seed');
    await mkdir(join(forgeRoot, 'acme'), { recursive: true });
    await git(root, 'init', '-q', '--bare', '-b', 'main', join(forgeRoot, 'acme', 'widget.git'));
    await git(root, 'init', '-q', '-b', 'main', seed);
    for (let i = 1; i <= 5; i++) {
      await writeFile(join(seed, 'README.md'), `# widget v${i}\n`);
      await writeFile(join(seed, `file${i}.txt`), `content ${i}\n`);
      await git(seed, 'add', '-A');
      await git(seed, 'commit', '-q', '-m', `commit ${i}`);
    }
    await git(seed, 'push', '-q', join(forgeRoot, 'acme', 'widget.git'), 'main');
    server = createServer((req, res) => {
      if (
        !handleGitHttp(
          { root: forgeRoot, authorize: (r) => r.headers.authorization === `Basic ${BASIC}` },
          req,
          res,
        )
      ) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    manager = createWorkspaceManager({
      dataDir,
      cloneUrl: (o, r) => `${url}/${o}/${r}.git`,
      getToken: () => Promise.resolve(TOKEN),
      git: { authorName: 'droidworks[bot]', authorEmail: 'bot@example.com' },
      logger: createLogger({ level: 'debug', destination }),
    });
  });

  afterAll(async () => {
    server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('follows the configured remote URL on every use (the API URL changed between two runs)', async () => {
    const serve = async (): Promise<{ server: Server; url: string }> => {
      const s = createServer((req, res) => {
        if (
          !handleGitHttp(
            { root: forgeRoot, authorize: (r) => r.headers.authorization === `Basic ${BASIC}` },
            req,
            res,
          )
        ) {
          res.writeHead(404);
          res.end();
        }
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return { server: s, url: `http://127.0.0.1:${(s.address() as { port: number }).port}` };
    };
    let current = await serve();
    const moving = createWorkspaceManager({
      dataDir: join(root, 'data-moving'),
      cloneUrl: (o, r) => `${current.url}/${o}/${r}.git`,
      getToken: () => Promise.resolve(TOKEN),
      git: { authorName: 'droidworks[bot]', authorEmail: 'bot@example.com' },
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const first = await moving.prepare({
        runId: 'run-m1',
        owner: 'acme',
        repo: 'widget',
        branch: 'droid/m-1',
      });
      await first.release();
      // The "GitHub" moves: the old address stops answering, a new one serves the same repositories.
      const old = current;
      await new Promise<void>((r) => old.server.close(() => r()));
      current = await serve();
      expect(current.url).not.toBe(old.url);

      const second = await moving.prepare({
        runId: 'run-m2',
        owner: 'acme',
        repo: 'widget',
        branch: 'droid/m-2',
      });
      await writeFile(join(second.dir, 'moved.txt'), 'after the move\n');
      expect((await second.commitAndPush({ message: 'droid: after the move' })).pushed).toBe(true);
      await second.release();
      const mirror = join(root, 'data-moving', 'mirrors', 'acme', 'widget.git');
      expect(await git(mirror, 'config', 'remote.origin.url')).toBe(`${current.url}/acme/widget.git`);
      expect(await git(join(forgeRoot, 'acme', 'widget.git'), 'show', 'refs/heads/droid/m-2:moved.txt')).toBe(
        'after the move',
      );
    } finally {
      await moving.close();
      current.server.close();
      // The other tests expect no droid branches on the forge but their own.
      await git(join(forgeRoot, 'acme', 'widget.git'), 'update-ref', '-d', 'refs/heads/droid/m-2');
    }
  });

  it('gives two concurrent runs separate worktrees, pushes both, and keeps the token out of files and logs', async () => {
    const [a, b] = await Promise.all([
      manager.prepare({ runId: 'run-a', owner: 'acme', repo: 'widget', branch: droidBranch(1, 'Fix A') }),
      manager.prepare({ runId: 'run-b', owner: 'acme', repo: 'widget', branch: droidBranch(2, 'Fix B') }),
    ]);
    expect(a.dir).not.toBe(b.dir);
    expect(await readFile(join(a.dir, 'file5.txt'), 'utf8')).toBe('content 5\n');
    await writeFile(join(a.dir, 'a.txt'), 'from a\n');
    await writeFile(join(b.dir, 'b.txt'), 'from b\n');
    expect(existsSync(join(b.dir, 'a.txt'))).toBe(false);
    expect(existsSync(join(a.dir, 'b.txt'))).toBe(false);

    const [pa, pb] = await Promise.all([
      a.commitAndPush({ message: 'droid: fix A' }),
      b.commitAndPush({ message: 'droid: fix B' }),
    ]);
    expect(pa.pushed && pb.pushed).toBe(true);
    const bare = join(forgeRoot, 'acme', 'widget.git');
    expect(await git(bare, 'rev-parse', 'refs/heads/droid/1-fix-a')).toBe(pa.sha);
    expect(await git(bare, 'show', 'refs/heads/droid/2-fix-b:b.txt')).toBe('from b');
    expect(await git(bare, 'log', '-1', '--format=%an <%ae>|%cn', 'droid/1-fix-a')).toBe(
      'droidworks[bot] <bot@example.com>|droidworks[bot]',
    );
    await expect(git(bare, 'cat-file', '-e', 'refs/heads/droid/2-fix-b:a.txt')).rejects.toThrow();

    for (const file of await filesUnder(dataDir)) {
      const content = await readFile(file);
      expect(content.includes(TOKEN), file).toBe(false);
      expect(content.includes(BASIC), file).toBe(false);
    }
    expect(logs).toContain('workspace pushed');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(BASIC);

    await a.release();
    await b.release();
    await a.release();
    expect(existsSync(a.dir) || existsSync(b.dir)).toBe(false);
    const mirror = join(dataDir, 'mirrors', 'acme', 'widget.git');
    expect(await git(mirror, 'worktree', 'list')).not.toContain('run-');
    expect(await git(mirror, 'branch', '--list', 'droid/*')).toBe('');
  });

  it('rebases once when the remote branch moved, then pushes with lease', async () => {
    const ws = await manager.prepare({
      runId: 'run-c',
      owner: 'acme',
      repo: 'widget',
      branch: 'droid/3-moved',
    });
    await writeFile(join(ws.dir, 'c.txt'), 'first\n');
    await ws.commitAndPush({ message: 'droid: first' });
    // Someone else pushes to the droid's branch meanwhile.
    const other = join(root, 'other');
    await git(root, 'clone', '-q', join(forgeRoot, 'acme', 'widget.git'), other, '-b', 'droid/3-moved');
    await writeFile(join(other, 'human.txt'), 'human\n');
    await git(other, 'add', '-A');
    await git(other, 'commit', '-q', '-m', 'human change');
    await git(other, 'push', '-q', 'origin', 'droid/3-moved');

    await writeFile(join(ws.dir, 'c.txt'), 'second\n');
    const result = await ws.commitAndPush({ message: 'droid: second' });
    expect(result.rebased).toBe(true);
    const bare = join(forgeRoot, 'acme', 'widget.git');
    expect(await git(bare, 'rev-parse', 'droid/3-moved')).toBe(result.sha);
    expect(await git(bare, 'show', 'droid/3-moved:human.txt')).toBe('human');
    expect(await git(bare, 'show', 'droid/3-moved:c.txt')).toBe('second');
    await ws.release();
  });

  it('checks out an existing remote branch for a PR iteration', async () => {
    const ws = await manager.prepare({
      runId: 'run-d',
      owner: 'acme',
      repo: 'widget',
      branch: 'droid/3-moved',
      mode: 'existing',
    });
    expect(await readFile(join(ws.dir, 'human.txt'), 'utf8')).toBe('human\n');
    await ws.release();
  });

  it('sweeps worktrees left by a crashed run', async () => {
    const ws = await manager.prepare({
      runId: 'run-crashed',
      owner: 'acme',
      repo: 'widget',
      branch: 'droid/9-crash',
    });
    const live = await manager.prepare({
      runId: 'run-live',
      owner: 'acme',
      repo: 'widget',
      branch: 'droid/10-live',
    });
    const removed = await manager.sweep((id) => id === 'run-live');
    expect(removed).toEqual(['run-crashed']);
    expect(existsSync(ws.dir)).toBe(false);
    expect(existsSync(live.dir)).toBe(true);
    await live.release();
  });

  it('adopts a spare worktree into a bind-mount-style directory and checks out only what changed', async () => {
    const spareData = join(root, 'data-spares');
    const m = createWorkspaceManager({
      dataDir: spareData,
      cloneUrl: (o, r) => `${url}/${o}/${r}.git`,
      getToken: () => Promise.resolve(TOKEN),
      git: { authorName: 'droidworks[bot]', authorEmail: 'bot@example.com' },
      logger: createLogger({ level: 'silent' }),
      spares: 1,
    });
    const owner = { uid: 1000, gid: 1000 };
    const spareDirs = async () =>
      (await readdir(join(spareData, 'worktrees', 'acme', 'widget'))).filter((n) => n.startsWith('spare.'));
    const first = await m.prepare({ runId: 'run-s1', owner: 'acme', repo: 'widget', branch: 'droid/20-a' });
    await m.settled();
    const [spare] = await spareDirs();
    expect(spare).toBeDefined();
    expect(await readFile(join(spareData, 'worktrees', 'acme', 'widget', spare!, 'file5.txt'), 'utf8')).toBe(
      'content 5\n',
    );
    await first.release();

    // The default branch moves on after the spare was made.
    const seed = join(root, 'seed-spares');
    await git(root, 'clone', '-q', join(forgeRoot, 'acme', 'widget.git'), seed);
    await mkdir(join(seed, 'new', 'deep'), { recursive: true });
    await writeFile(join(seed, 'new', 'deep', 'added.txt'), 'added\n');
    await writeFile(join(seed, 'file1.txt'), 'changed 1\n');
    await git(seed, 'rm', '-q', 'file2.txt');
    await git(seed, 'add', '-A');
    await git(seed, 'commit', '-q', '-m', 'move main');
    await git(seed, 'push', '-q', 'origin', 'main');
    const head = await git(seed, 'rev-parse', 'HEAD');

    // An existing, empty directory, like the sandbox's bind-mounted workspace: filled, not replaced.
    const target = join(root, 'mounted');
    await mkdir(target);
    const ws = await m.prepare({
      runId: 'run-s2',
      owner: 'acme',
      repo: 'widget',
      branch: 'droid/21-b',
      dir: target,
      fileOwner: owner,
    });
    expect(ws.baseSha).toBe(head);
    expect(existsSync(join(spareData, 'worktrees', 'acme', 'widget', spare!))).toBe(false);
    expect(await readFile(join(target, 'file1.txt'), 'utf8')).toBe('changed 1\n');
    expect(await readFile(join(target, 'new', 'deep', 'added.txt'), 'utf8')).toBe('added\n');
    expect(existsSync(join(target, 'file2.txt'))).toBe(false);
    expect(await git(target, '-c', 'safe.directory=*', 'status', '--porcelain')).toBe('');
    expect(await git(target, '-c', 'safe.directory=*', 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(
      'droid/21-b',
    );
    if (process.getuid?.() === 0)
      for (const f of ['file1.txt', 'file5.txt', 'new', 'new/deep', 'new/deep/added.txt'])
        expect((await run('stat', ['-c', '%u', join(target, f)])).stdout.trim(), f).toBe('1000');

    await writeFile(join(target, 'fix.txt'), 'fix\n');
    const pushed = await ws.commitAndPush({ message: 'droid: fix' });
    const bare = join(forgeRoot, 'acme', 'widget.git');
    expect(await git(bare, 'rev-parse', 'droid/21-b')).toBe(pushed.sha);
    expect(await git(bare, 'rev-parse', 'droid/21-b^')).toBe(head);
    await ws.release();

    // A spare of this live process survives a sweep that knows no live run; close removes it.
    await m.settled();
    expect(await spareDirs()).toHaveLength(1);
    expect(await m.sweep(() => false)).toEqual([]);
    expect(await spareDirs()).toHaveLength(1);
    await m.close();
    expect(await spareDirs()).toHaveLength(0);
    const mirror = join(spareData, 'mirrors', 'acme', 'widget.git');
    expect((await git(mirror, 'worktree', 'list')).split('\n')).toHaveLength(1);
  });

  it('removes a spare it took when the target directory is not empty (no leaked worktree)', async () => {
    const spareData = join(root, 'data-spares-busy');
    const m = createWorkspaceManager({
      dataDir: spareData,
      cloneUrl: (o, r) => `${url}/${o}/${r}.git`,
      getToken: () => Promise.resolve(TOKEN),
      git: { authorName: 'droidworks[bot]', authorEmail: 'bot@example.com' },
      logger: createLogger({ level: 'silent' }),
      spares: 1,
    });
    const spareDirs = async () =>
      (await readdir(join(spareData, 'worktrees', 'acme', 'widget'))).filter((n) => n.startsWith('spare.'));
    try {
      const first = await m.prepare({ runId: 'run-b1', owner: 'acme', repo: 'widget', branch: 'droid/30-a' });
      await m.settled();
      expect(await spareDirs()).toHaveLength(1);
      await first.release();
      const busy = join(root, 'busy');
      await mkdir(busy);
      await writeFile(join(busy, 'someone-elses.txt'), 'keep me\n');
      await expect(
        m.prepare({ runId: 'run-b2', owner: 'acme', repo: 'widget', branch: 'droid/31-b', dir: busy }),
      ).rejects.toThrow(GitError);
      expect(await readFile(join(busy, 'someone-elses.txt'), 'utf8')).toBe('keep me\n');
      expect(await spareDirs()).toHaveLength(0);
      const mirror = join(spareData, 'mirrors', 'acme', 'widget.git');
      expect((await git(mirror, 'worktree', 'list')).split('\n')).toHaveLength(1);
    } finally {
      await m.close();
    }
  });

  it('fails with a redacted GitError on a bad token', async () => {
    const bad = 'ghs_' + 'WrongTokenWrongToken'.padEnd(36, 'y');
    const m = createWorkspaceManager({
      dataDir: join(root, 'data-bad'),
      cloneUrl: (o, r) => `${url}/${o}/${r}.git`,
      getToken: () => Promise.resolve(bad),
      git: { authorName: 'x', authorEmail: 'x@e' },
      logger: createLogger({ level: 'silent' }),
    });
    const err = await m
      .prepare({ runId: 'run-bad', owner: 'acme', repo: 'widget', branch: 'droid/1-x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(String((err as GitError).message)).not.toContain(bad);
  });
});
