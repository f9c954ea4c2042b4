import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, inject, it } from 'vitest';
import { isFinalStatus } from '../../src/ledger/run-status.js';
import { describeDocker } from '../support/docker.js';
import { droidworksContainers, openIssue, outcomeOf, run, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
const KILLS = Number(process.env.FAULT_KILLS ?? 10);
/** Runs kept in progress while the kills go on. */
const ISSUES = 3;

/** A small seeded generator, so a failing sequence of kills can be replayed (`FAULT_SEED`). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeDocker('fault suite: the worker is SIGKILLed at random points of runs', () => {
  let e2e: E2E | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await e2e?.close();
    e2e = undefined;
  });

  it(`${KILLS} kills: one progress comment and at most one PR per issue, every run final, nothing left behind`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    console.log(`fault suite seed ${seed} (replay with FAULT_SEED=${seed})`);
    e2e = await startE2E(redisUrl, {
      noWorker: true,
      lockDurationMs: 3000,
      env: { DROIDWORKS_CONCURRENCY: String(ISSUES), DROIDWORKS_CONCURRENCY_PER_REPO: '16' },
    });
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issues: Array<{ number: number }> = [];
    const ended = (n: number) => outcomeOf(stack, n) !== undefined;
    const allEnded = () => issues.every((i) => ended(i.number));
    // Keeps ISSUES runs in progress, so every kill lands in the middle of some run.
    const topUp = () => {
      while (issues.filter((i) => !ended(i.number)).length < ISSUES)
        issues.push(
          openIssue(stack, {
            title: `add() returns the wrong result (${issues.length + 1})`,
            body: 'add(2, 3) is -1, not 5.',
          }),
        );
    };

    let kills = 0;
    while (kills < KILLS) {
      topUp();
      const worker = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-child.ts'], {
        env: { ...process.env, ...stack.env, TEST_LOCK_MS: '3000' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      child = worker;
      await new Promise<void>((resolve, reject) => {
        worker.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve());
        worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
      });
      // Somewhere in the run: checkout, planning, coding, testing, publishing or reporting.
      await sleep(500 + Math.floor(random() * 7000));
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
      kills += 1;
    }
    console.log(`fault suite: ${kills} kills over ${issues.length} issues`);

    await stack.startWorker();
    await waitFor('every issue to end with a label', allEnded, 300_000, 500);

    const ledger = stack.services!.ledger;
    for (const issue of issues) {
      const comments = stack.forge.comments(repo, issue.number);
      const progress = comments.filter((c) => c.body.includes('droidworks:progress'));
      expect(progress, `issue #${issue.number}`).toHaveLength(1);
      const runId = /droidworks:progress run=(\S+) -->/.exec(progress[0]!.body)?.[1] ?? '';
      expect(isFinalStatus((await ledger.state(runId)).status), `run ${runId} final`).toBe(true);
      expect(progress[0]!.body).not.toMatch(/Working|Queued/);
      const pulls = stack.forge
        .pulls(repo)
        .filter((p) => p.pull.headRef.startsWith(`droid/${issue.number}-`));
      if (outcomeOf(stack, issue.number) === 'droid:done')
        expect(pulls, `PRs of #${issue.number}`).toHaveLength(1);
      else expect(pulls.length, `PRs of #${issue.number}`).toBeLessThanOrEqual(1);
    }

    await waitFor('no container left', async () => (await droidworksContainers(stack)).length === 0, 30_000);
    const { stdout } = await run('docker', [
      'network',
      'ls',
      '-q',
      '--filter',
      `label=droidworks.namespace=${stack.config.queuePrefix}`,
    ]);
    expect(stdout.trim()).toBe('');
    // No worktree left: the mirror knows only itself, and no sandbox workspace directory remains.
    const mirror = join(stack.config.dataDir, 'mirrors', stack.repo.owner, `${stack.repo.name}.git`);
    let left = '';
    await waitFor(
      'no worktree left',
      async () => {
        const list = (await run('git', ['--git-dir', mirror, 'worktree', 'list'])).stdout.trim();
        const ws = await readdir(join(stack.config.dataDir, 'sandboxes', 'ws')).catch(() => []);
        left = `worktrees:\n${list}\nsandbox dirs: ${ws.join(', ')}`;
        return list.split('\n').length === 1 && ws.length === 0;
      },
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${left}`);
    });
  }, 600_000);
});
