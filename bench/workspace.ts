/**
 * Workspace benchmark: a generated repository of 20,000 files and 2,000 commits (git fast-import)
 * served over git smart HTTP on loopback with a token. Time to a ready worktree for a new run:
 * fresh `git clone` (baseline) vs mirror + worktree once the mirror exists, without and with a spare
 * worktree (`DROIDWORKS_WORKTREE_SPARES=1`; the default branch gains a commit between runs, so each
 * adoption checks out a change). Target ≥ 10×.
 * Prints, never asserts.
 *
 * Run: npx tsx bench/workspace.ts
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { handleGitHttp } from '../src/demo/forge/git-http-server.js';
import { createLogger } from '../src/util/logger.js';
import { createWorkspaceManager } from '../src/workspace/workspace-manager.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 2_000);
const N = Number(process.env.BENCH_N ?? 5);
const TOKEN = 'ghs_' + 'BenchToken'.padEnd(36, 'z');
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const run = promisify(execFile);

/** Streams a fast-import script: commit 1 adds every file, each later commit edits 10 of them. */
async function generate(bare: string): Promise<void> {
  await run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  const child = spawn('git', ['fast-import', '--quiet'], {
    cwd: bare,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const write = (s: string) =>
    child.stdin.write(s) ? Promise.resolve() : new Promise<void>((r) => child.stdin.once('drain', () => r()));
  const path = (i: number) => `src/dir${Math.floor(i / 200)}/file${i}.ts`;
  const body = (i: number, v: number) => `export const value${i} = ${v};\n// ${'x'.repeat(200)}\n`;
  const t0 = 1_700_000_000;
  for (let c = 0; c < COMMITS; c++) {
    const msg = `commit ${c}\n`;
    let s = `commit refs/heads/main\ncommitter Bench <bench@example.com> ${t0 + c} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`;
    const files =
      c === 0
        ? Array.from({ length: FILES }, (_, i) => i)
        : Array.from({ length: 10 }, (_, k) => (c * 37 + k * 1999) % FILES);
    for (const i of files) {
      const content = body(i, c);
      s += `M 100644 inline ${path(i)}\ndata ${Buffer.byteLength(content)}\n${content}`;
    }
    await write(s + '\n');
  }
  child.stdin.end();
  await new Promise<void>((resolve, reject) =>
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import ${code}`)))),
  );
  await run('git', ['--git-dir', bare, 'gc', '-q', '--aggressive', '--prune=now']).catch(() =>
    run('git', ['--git-dir', bare, 'repack', '-adq']),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'dw-bench-ws-'));
  const forge = join(root, 'forge');
  mkdirSync(join(forge, 'bench'), { recursive: true });
  let t = performance.now();
  await generate(join(forge, 'bench', 'big.git'));
  process.stderr.write(
    `generated ${FILES} files / ${COMMITS} commits in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );

  const server = createServer((req, res) => {
    if (
      !handleGitHttp(
        { root: forge, authorize: (r) => r.headers.authorization === `Basic ${BASIC}` },
        req,
        res,
      )
    ) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/bench/big.git`;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${BASIC}`,
  };

  const clones: number[] = [];
  for (let i = 0; i < N; i++) {
    const dir = join(root, `clone-${i}`);
    t = performance.now();
    await run('git', ['clone', '-q', url, dir], { env });
    clones.push(performance.now() - t);
    rmSync(dir, { recursive: true, force: true });
  }

  const newManager = (name: string, spares: number) =>
    createWorkspaceManager({
      dataDir: join(root, name),
      cloneUrl: () => url,
      partialClone: process.env.BENCH_PARTIAL !== '0',
      getToken: () => Promise.resolve(TOKEN),
      git: { authorName: 'bench', authorEmail: 'bench@example.com' },
      logger: createLogger({ level: process.env.BENCH_LOG ?? 'warn' }),
      spares,
    });
  const manager = newManager('data', 0);
  t = performance.now();
  const first = await manager.prepare({
    runId: 'bench-first',
    owner: 'bench',
    repo: 'big',
    branch: 'droid/0-first',
  });
  const firstMs = performance.now() - t;
  await first.release();
  const worktrees: number[] = [];
  for (let i = 0; i < N; i++) {
    t = performance.now();
    const ws = await manager.prepare({
      runId: `bench-${i}`,
      owner: 'bench',
      repo: 'big',
      branch: `droid/${i + 1}-bench`,
    });
    worktrees.push(performance.now() - t);
    await ws.release();
  }

  // Spares: a human commit lands on main between runs (10 files), as on a busy repository.
  const pusher = join(root, 'pusher');
  await run('git', ['clone', '-q', '--no-checkout', '--filter=blob:none', url, pusher], { env });
  const human = {
    ...env,
    GIT_AUTHOR_NAME: 'h',
    GIT_AUTHOR_EMAIL: 'h@e',
    GIT_COMMITTER_NAME: 'h',
    GIT_COMMITTER_EMAIL: 'h@e',
  };
  const moveMain = async (i: number) => {
    const edits = Array.from({ length: 10 }, (_, k) => `src/dir${k}/file${k * 200 + i}.ts`);
    const blob = async (content: string) =>
      (
        await run('sh', ['-c', `printf '%s' "$0" | git -C "$1" hash-object -w --stdin`, content, pusher], {
          env,
        })
      ).stdout.trim();
    const index = join(root, `index-${i}`);
    const ienv = { ...env, GIT_INDEX_FILE: index };
    await run('git', ['-C', pusher, 'read-tree', 'HEAD'], { env: ienv });
    for (const path of edits)
      await run(
        'git',
        ['-C', pusher, 'update-index', '--cacheinfo', `100644,${await blob(`// edited ${i}\n`)},${path}`],
        { env: ienv },
      );
    const newTree = (await run('git', ['-C', pusher, 'write-tree'], { env: ienv })).stdout.trim();
    const next = (
      await run('git', ['-C', pusher, 'commit-tree', newTree, '-p', 'HEAD', '-m', `edit ${i}`], {
        env: human,
      })
    ).stdout.trim();
    await run('git', ['-C', pusher, 'update-ref', 'HEAD', next], { env });
    await run('git', ['-C', pusher, 'push', '-q', 'origin', 'HEAD:refs/heads/main'], { env });
  };
  const spared = newManager('data-spares', 1);
  const warmup = await spared.prepare({ runId: 'bench-s', owner: 'bench', repo: 'big', branch: 'droid/0-s' });
  await warmup.release();
  const adopted: number[] = [];
  for (let i = 0; i < N; i++) {
    await spared.settled(); // the spare is made between runs, off the run's path
    await moveMain(i);
    const dir = join(root, `mounted-${i}`); // an existing empty directory, as the sandbox gives
    mkdirSync(dir);
    t = performance.now();
    const ws = await spared.prepare({
      runId: `bench-s${i}`,
      owner: 'bench',
      repo: 'big',
      branch: `droid/${i + 1}-spare`,
      dir,
    });
    adopted.push(performance.now() - t);
    await ws.release();
  }
  await spared.close();
  server.close();
  rmSync(root, { recursive: true, force: true });

  const base = median(clones);
  console.log(
    `\ntime to a ready checkout: ${FILES} files, ${COMMITS} commits, smart HTTP on loopback, median of ${N}\n`,
  );
  console.log('| variant                                 | median ms | clone / variant |');
  console.log('|-----------------------------------------|----------:|----------------:|');
  const row = (name: string, ms: number) =>
    console.log(
      `| ${name.padEnd(39)} | ${ms.toFixed(0).padStart(9)} | ${(base / ms).toFixed(1).padStart(14)}× |`,
    );
  row('fresh git clone (baseline)', base);
  row('first run: blob-less mirror + worktree', firstMs);
  row('later runs: fetch + worktree', median(worktrees));
  row('later runs: fetch + adopt a spare', median(adopted));
  console.log(
    `\ntarget ≥ 10×: without spares ${base / median(worktrees) >= 10 ? 'met' : 'missed'}, with a spare ${base / median(adopted) >= 10 ? 'met' : 'missed'}`,
  );
}

await main();
