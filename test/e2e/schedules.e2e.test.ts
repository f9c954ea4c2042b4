import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, inject, it } from 'vitest';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { MaintenanceStore, type TickRecord } from '../../src/schedules/maintenance-store.js';
import { RunLedger } from '../../src/ledger/index.js';
import { DASHBOARD_LABEL } from '../../src/schedules/render-dashboard.js';
import { SAMPLE_REPO } from '../../src/demo/sample-repo.js';
import type { RunningWorker } from '../../src/cli/serve-worker.js';
import { describeDocker } from '../support/docker.js';
import { startE2E, type E2E } from '../support/e2e-stack.js';
import { fakeReply } from '../support/fake-model-server.js';
import { assistantTurns, scriptedHandler, systemOf } from '../support/scripted-model.js';
import { scriptedRoleOf } from '../../src/demo/scripted-turns.js';
import { waitFor } from '../support/wait-for.js';
import { startNpmRegistry, type LocalNpmRegistry } from '../support/npm-registry.js';
import { createScheduleStore } from '../../src/queue/job-schedulers.js';
import { editIssueBody, pushFiles, setIssueTimes } from '../../src/demo/forge/maintenance-test-api.js';

const redisUrl = inject('redisUrl');
const docker = promisify(execFile);

/**
 * A local npm registry the run's sandboxes reach too: it listens on every address, a Docker network
 * of its own is the egress network, and the name `registry.test` is pinned to that network's
 * gateway (this machine). `DROIDWORKS_NPM_REGISTRY` names it; the host follows the same pin.
 */
async function sandboxRegistry(): Promise<{
  registry: LocalNpmRegistry;
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const registry = await startNpmRegistry('0.0.0.0');
  const network = `dw-egress-sched-${process.pid}-${Date.now().toString(36)}`;
  await docker('docker', ['network', 'create', network]);
  const gateway = (
    await docker('docker', ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', network])
  ).stdout.trim();
  return {
    registry,
    env: {
      DROIDWORKS_NPM_REGISTRY: `http://registry.test:${registry.port}`,
      DROIDWORKS_EGRESS_NETWORK: network,
      DROIDWORKS_EGRESS_HOSTS: `registry.test=${gateway}`,
    },
    async close() {
      await registry.close();
      await docker('docker', ['network', 'rm', network]).catch(() => undefined);
    },
  };
}

const REPO = `${SAMPLE_REPO.owner}/${SAMPLE_REPO.name}`;
const BRANCH = 'droid/maintenance/changelog';

/** A repository prompt workflow: every two seconds, add a line to CHANGELOG.md. */
const CHANGELOG_WORKFLOW = [
  '---',
  'description: Keep the changelog current',
  'trigger:',
  '  schedule: { cron: "*/2 * * * * *", timezone: Europe/Berlin }',
  '---',
  'Add one line to CHANGELOG.md that summarises last week (the CHANGELOG task).',
].join('\n');

/** The coder appends a unique line to CHANGELOG.md, then finishes. */
const changelogCoder = scriptedHandler((request, role, turn) => {
  if (role !== 'coder' || !JSON.stringify(request.body).includes('CHANGELOG task')) return undefined;
  if (turn === 0)
    return fakeReply.tool('bash', { command: 'echo "- entry $(date +%s%N)" >> CHANGELOG.md && echo ok' });
  return fakeReply.tool('finish', { summary: 'Added a changelog line.' });
});

async function prepareRepo(e2e: E2E): Promise<void> {
  const { stack } = e2e;
  e2e.model.setHandler(changelogCoder);
  // The sample's bug fixed first, so the scheduled runs' tests pass.
  const calc = (await stack.forge.readFile(REPO, 'calc.js', 'main'))!.replace('a - b', 'a + b');
  await stack.forge.commit(REPO, {
    files: { 'calc.js': calc, '.droidworks/workflows/changelog.md': CHANGELOG_WORKFLOW },
    message: 'scheduled changelog',
  });
}

/** Issues (not pull requests) of the sample repository on the forge. */
function issuesOf(stack: E2E['stack']) {
  return [...stack.forge.state.requireRepo(REPO).issues.values()].filter((i) => !i.pull);
}

describeDocker('scheduled maintenance', () => {
  let e2e: E2E | undefined;
  const extra: RunningWorker[] = [];
  afterEach(async () => {
    for (const w of extra.splice(0)) await w.close();
    await e2e?.close();
    e2e = undefined;
  });

  async function ticksOf(workflow: string): Promise<TickRecord[]> {
    const redis = createRedisConnection(e2e!.stack.redisUrl, { role: 'worker' });
    try {
      return await new MaintenanceStore(redis, e2e!.stack.config.queuePrefix).ticks(REPO, workflow);
    } finally {
      redis.disconnect();
    }
  }

  it('a prompt workflow on a 2-second schedule: two runs, one PR refreshed; restarts and two workers never double or skip a tick', async () => {
    e2e = await startE2E(redisUrl, { noWorker: true, env: { DROIDWORKS_REPOSITORIES: REPO } });
    const { stack } = e2e;
    await prepareRepo(e2e);
    // Two workers at once.
    const first = await stack.startWorker();
    extra.push(await stack.startWorker());

    const dashboard = await waitFor('the dashboard issue', () =>
      issuesOf(stack).find((i) => i.labels.includes(DASHBOARD_LABEL)),
    );
    const pr = await waitFor(
      'the maintenance PR',
      () => stack.forge.pulls(REPO).find((p) => p.pull.headRef === BRANCH),
      120_000,
    );
    const firstHead = pr.pull.headSha;
    await waitFor(
      'a second run to refresh the PR',
      () => stack.forge.pull(REPO, pr.number).pull.headSha !== firstHead,
      150_000,
    );
    expect(stack.forge.pulls(REPO).filter((p) => p.pull.headRef === BRANCH)).toHaveLength(1);
    const changelog = (await stack.forge.readFile(REPO, 'CHANGELOG.md', BRANCH)) ?? '';
    expect(changelog.match(/^- entry/gm)?.length).toBeGreaterThanOrEqual(2);

    // Restart: stop both workers, let ticks pass, start one again. Down from the moment closing
    // starts: a worker stops taking jobs then, and closing waits for a run in progress, so a tick
    // can fall due during it (taking `down` after the close missed that tick and failed CI once).
    const down = Date.now();
    await first.close();
    for (const w of extra.splice(0)) await w.close();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const up = Date.now();
    extra.push(await stack.startWorker());
    await waitFor('the missed tick to be processed', async () =>
      (await ticksOf('changelog')).some((t) => t.processedAt >= up),
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const ticks = await ticksOf('changelog');
    const scheduled = ticks.filter((t) => t.trigger === 'schedule');
    const ats = scheduled.map((t) => t.at);
    // Never doubled: one record per tick, with two workers and across the restart.
    expect(new Set(ats).size).toBe(ats.length);
    // Missed while down: run once on start, not once per missed tick.
    const missed = scheduled.filter((t) => t.at! > down && t.at! < up);
    expect(missed).toHaveLength(1);
    expect(missed[0]!.processedAt).toBeGreaterThanOrEqual(up);
    // Two or more runs started, all on the same PR; the dashboard lists the workflow.
    expect(
      new Set(scheduled.filter((t) => t.outcome === 'started').map((t) => t.runId)).size,
    ).toBeGreaterThanOrEqual(2);
    expect(stack.forge.pulls(REPO).filter((p) => p.pull.headRef === BRANCH)).toHaveLength(1);
    expect(issuesOf(stack).filter((i) => i.labels.includes(DASHBOARD_LABEL))).toHaveLength(1);
    expect(stack.forge.issue(REPO, dashboard.number).body).toContain('**changelog**');
  });

  async function schedulers() {
    const redis = createRedisConnection(e2e!.stack.redisUrl, { role: 'worker' });
    const store = createScheduleStore(redis, e2e!.stack.config.queuePrefix);
    try {
      return await store.list();
    } finally {
      await store.close();
      redis.disconnect();
    }
  }

  it('open-PR limit: no PR, the dashboard says why; a push changing the schedule re-syncs it without a restart', async () => {
    e2e = await startE2E(redisUrl, { noWorker: true, env: { DROIDWORKS_REPOSITORIES: REPO } });
    const { stack } = e2e;
    await prepareRepo(e2e);
    await stack.forge.commit(REPO, {
      files: { '.droidworks.yml': 'limits: { openPrs: 0 }\n' },
      message: 'no droid PRs at all',
    });
    await stack.startWorker();
    const dashboard = await waitFor('the dashboard to say the work waits', () =>
      issuesOf(stack).find(
        (i) => i.labels.includes(DASHBOARD_LABEL) && i.body?.includes('limits.openPrs: 0'),
      ),
    );
    expect(dashboard.body).toContain('waiting');
    expect(stack.forge.pulls(REPO)).toHaveLength(0);
    expect((await ticksOf('changelog')).every((t) => t.outcome === 'waiting')).toBe(true);

    // The schedule changes on the default branch: the scheduler follows, no restart.
    expect((await schedulers()).map((s) => [s.id, s.cron])).toEqual([
      ['acme/calculator/changelog', '*/2 * * * * *'],
    ]);
    await pushFiles(stack.forge, REPO, {
      files: {
        '.droidworks/workflows/changelog.md': CHANGELOG_WORKFLOW.replace('*/2 * * * * *', '0 9 * * 1'),
        '.droidworks.yml':
          'limits: { openPrs: 0 }\nmaintenance:\n  stale-branches: { schedule: "0 4 * * 0", timezone: Europe/Berlin }\n',
      },
      message: 'weekly changelog, stale branches on Sundays',
      as: 'alice',
    });
    await waitFor('the schedulers to follow the push', async () => {
      const now = (await schedulers())
        .map((s) => [s.id, s.cron, s.timezone])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      return (
        JSON.stringify(now) ===
        JSON.stringify([
          ['acme/calculator/changelog', '0 9 * * 1', 'Europe/Berlin'],
          ['acme/calculator/stale-branches', '0 4 * * 0', 'Europe/Berlin'],
        ])
      );
    });
    // A workflow that is no longer scheduled loses its scheduler.
    await pushFiles(stack.forge, REPO, {
      files: {
        '.droidworks/workflows/changelog.md': CHANGELOG_WORKFLOW.replace(
          'schedule: { cron: "*/2 * * * * *", timezone: Europe/Berlin }',
          'command: [run]',
        ),
      },
      message: 'no more changelog',
      as: 'alice',
    });
    await waitFor('the changelog scheduler to go', async () =>
      (await schedulers()).every((s) => s.id !== 'acme/calculator/changelog'),
    );
  });

  it('stale branches: an old droid PR is warned, then closed; human branches are never touched; dashboard checkbox and /droid run start it for writers only', async () => {
    e2e = await startE2E(redisUrl, { noWorker: true, env: { DROIDWORKS_REPOSITORIES: REPO } });
    const { stack } = e2e;
    await stack.forge.commit(REPO, {
      files: {
        '.droidworks.yml':
          'maintenance:\n  stale-branches: { schedule: "0 4 * * 0", staleDays: 30, graceDays: 0 }\n',
      },
      message: 'stale branches',
    });
    const old = new Date(Date.now() - 40 * 86_400_000);
    for (const branch of ['droid/7-old-fix', 'feature/human', 'droid/9-orphan', 'feature/lonely'])
      await stack.forge.commit(REPO, { branch, files: { [`${branch}.txt`]: 'x\n' }, message: branch });
    const droidPr = await stack.forge.createPullRequest(REPO, {
      title: 'old droid fix',
      head: 'droid/7-old-fix',
      as: 'alice',
    });
    const humanPr = await stack.forge.createPullRequest(REPO, {
      title: 'human work',
      head: 'feature/human',
      as: 'alice',
    });
    setIssueTimes(stack.forge, REPO, droidPr.number, old);
    setIssueTimes(stack.forge, REPO, humanPr.number, old);
    await stack.startWorker();

    // A reader's /droid run does nothing; a writer's starts the run.
    const issue = stack.forge.createIssue(REPO, { title: 'housekeeping', as: 'alice' });
    stack.forge.comment(REPO, issue.number, '/droid run stale-branches', 'rita');
    await waitFor('the refusal', () =>
      stack.forge.comments(REPO, issue.number).some((c) => c.body.includes('write access')),
    );
    stack.forge.comment(REPO, issue.number, '/droid run stale-branches', 'alice');
    await waitFor('the stale warning', () =>
      stack.forge.comments(REPO, droidPr.number).some((c) => c.body.includes('droidworks:stale')),
    );
    expect(stack.forge.pull(REPO, droidPr.number).state).toBe('open');
    expect(stack.forge.comments(REPO, humanPr.number)).toHaveLength(0);
    const branches = async () =>
      (await stack.forge.state.git.branches(SAMPLE_REPO.owner, SAMPLE_REPO.name)).map((b) => b.name);
    await waitFor(
      'the orphan droid branch to go',
      async () => !(await branches()).includes('droid/9-orphan'),
    );

    // The dashboard: a reader's tick does nothing, a writer's runs the workflow (the grace is over).
    const dashboard = await waitFor('the dashboard', () =>
      issuesOf(stack).find((i) => i.labels.includes(DASHBOARD_LABEL) && i.body?.includes('last run: ')),
    );
    await waitFor('the first run on the dashboard', () =>
      stack.forge
        .issue(REPO, dashboard.number)
        .body?.includes('stale-branches** (`0 4 * * 0`)\n  - last run: `maint-'),
    );
    const ticked = (stack.forge.issue(REPO, dashboard.number).body ?? '').replace(
      '- [ ] <!-- droidworks:run-workflow=stale-branches',
      '- [x] <!-- droidworks:run-workflow=stale-branches',
    );
    stack.forge.setPermission(REPO, 'rita', 'triage'); // may edit issues, still not a writer
    await editIssueBody(stack.forge, REPO, dashboard.number, ticked, 'rita');
    await waitFor('the box to be cleared without a run', () =>
      stack.forge
        .issue(REPO, dashboard.number)
        .body?.includes('- [ ] <!-- droidworks:run-workflow=stale-branches'),
    );
    expect(stack.forge.pull(REPO, droidPr.number).state).toBe('open');
    expect((await ticksOf('stale-branches')).filter((t) => t.trigger === 'dashboard')).toHaveLength(0);
    await editIssueBody(stack.forge, REPO, dashboard.number, ticked, 'alice');
    await waitFor(
      'the old droid PR to be closed',
      () => stack.forge.pull(REPO, droidPr.number).state === 'closed',
      60_000,
    );
    await waitFor('the box to be cleared', () =>
      stack.forge
        .issue(REPO, dashboard.number)
        .body?.includes('- [ ] <!-- droidworks:run-workflow=stale-branches'),
    );
    expect((await ticksOf('stale-branches')).filter((t) => t.trigger === 'dashboard')).toHaveLength(1);
    // Human branches and their PRs are untouched.
    expect(stack.forge.pull(REPO, humanPr.number).state).toBe('open');
    expect(stack.forge.comments(REPO, humanPr.number)).toHaveLength(0);
    const left = await branches();
    expect(left).toEqual(expect.arrayContaining(['feature/human', 'feature/lonely', 'main']));
    expect(left).not.toContain('droid/7-old-fix');
  });

  it('flaky triage: one droid:flaky issue naming exactly the random test; a second run updates it', async () => {
    e2e = await startE2E(redisUrl, { noWorker: true, env: { DROIDWORKS_REPOSITORIES: REPO } });
    const { stack } = e2e;
    // Fails on every other run (a counter beside the checkout); the sample's add() test always fails.
    const flakyTest = [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "const fs = require('node:fs');",
      "test('sometimes passes', () => {",
      "  const file = __dirname + '/.flaky-count';",
      "  const n = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0;",
      '  fs.writeFileSync(file, String(n + 1));',
      '  assert.ok(n % 2 === 0, `run ${n} fails`);',
      '});',
    ].join('\n');
    await stack.forge.commit(REPO, {
      files: {
        'flaky.test.js': flakyTest,
        '.droidworks.yml': 'maintenance:\n  flaky-tests: { schedule: "0 3 * * *", reruns: 4 }\n',
      },
      message: 'a flaky test',
    });
    await stack.startWorker();
    const flakyIssues = () => issuesOf(stack).filter((i) => i.labels.includes('droid:flaky'));
    const issue = stack.forge.createIssue(REPO, { title: 'triage', as: 'alice' });
    stack.forge.comment(REPO, issue.number, '/droid run flaky-tests', 'alice');
    const report = await waitFor('the flaky-tests issue', () => flakyIssues()[0], 180_000);
    expect(report.body).toContain('| `sometimes passes` | 2/4 (50%) |');
    expect(report.body).not.toMatch(/\| `[^`]*add[^`]*` \|/);
    const firstBody = report.body;
    stack.forge.comment(REPO, issue.number, '/droid run flaky-tests', 'alice');
    await waitFor(
      'the same issue updated',
      () => stack.forge.issue(REPO, report.number).body !== firstBody,
      180_000,
    );
    expect(flakyIssues()).toHaveLength(1);
    expect(stack.forge.issue(REPO, report.number).body).toContain('`sometimes passes`');
  });

  it('dependency update against a local registry: npm in the sandbox updates the lock file, one PR with the table, nothing new → no commit, a new version → the same PR refreshed', async () => {
    const local = await sandboxRegistry();
    const { registry } = local;
    try {
      registry.publish('left-pad', '1.0.0', { repository: 'git+https://github.com/left-pad/left-pad.git' });
      registry.publish('left-pad', '1.1.0');
      registry.publish('left-pad', '2.0.0'); // major: outside `update: minor`
      e2e = await startE2E(redisUrl, {
        noWorker: true,
        env: { DROIDWORKS_REPOSITORIES: REPO, ...local.env },
      });
      const { stack } = e2e;
      const calc = (await stack.forge.readFile(REPO, 'calc.js', 'main'))!.replace('a - b', 'a + b');
      const pkg = JSON.parse((await stack.forge.readFile(REPO, 'package.json', 'main'))!) as Record<
        string,
        unknown
      >;
      await stack.forge.commit(REPO, {
        files: {
          'calc.js': calc,
          'package.json': JSON.stringify({ ...pkg, dependencies: { 'left-pad': '^1.0.0' } }, null, 2) + '\n',
          'package-lock.json': registry.lockFile(
            local.env.DROIDWORKS_NPM_REGISTRY!,
            { 'left-pad': '1.0.0' },
            { 'left-pad': '^1.0.0' },
          ),
          '.gitignore': 'node_modules/\n',
          '.droidworks.yml':
            'test: node --test\nmaintenance:\n  dependency-update: { schedule: "0 6 * * 1", update: minor, group: all }\n',
        },
        message: 'a dependency',
      });
      await stack.startWorker();
      const issue = stack.forge.createIssue(REPO, { title: 'deps', as: 'alice' });
      const branch = 'droid/maintenance/dependency-update-all';
      const runNow = () => stack.forge.comment(REPO, issue.number, '/droid run dependency-update', 'alice');
      runNow();
      const pr = await waitFor(
        'the dependency PR',
        () => stack.forge.pulls(REPO).find((p) => p.pull.headRef === branch),
        180_000,
      );
      expect(pr.body).toContain(
        '| `left-pad` | `^1.0.0` → `^1.1.0` | minor | [notes](https://github.com/left-pad/left-pad/releases) |',
      );
      expect(await stack.forge.readFile(REPO, 'package.json', branch)).toContain('"left-pad": "^1.1.0"');
      // npm ran in the sandbox, through its egress proxy to the registry: the lock file has the new version.
      const lock = JSON.parse((await stack.forge.readFile(REPO, 'package-lock.json', branch))!) as {
        packages: Record<string, { version?: string; resolved?: string }>;
      };
      expect(lock.packages['node_modules/left-pad']?.version).toBe('1.1.0');
      expect(lock.packages['node_modules/left-pad']?.resolved).toContain('registry.test');
      expect(registry.downloads).toContain('left-pad@1.1.0');
      expect(await stack.forge.readFile(REPO, 'node_modules/left-pad/package.json', branch)).toBeNull();
      const firstHead = pr.pull.headSha;
      const runs = async () => (await ticksOf('dependency-update')).filter((t) => t.outcome === 'started');
      const finished = (n: number) => async () => {
        const started = await runs();
        const redis = createRedisConnection(stack.redisUrl, { role: 'worker' });
        try {
          const last = (await new MaintenanceStore(redis, stack.config.queuePrefix).lastRuns(REPO)).get(
            'dependency-update',
          );
          return started.length >= n && last?.runId === started[0]!.runId;
        } finally {
          redis.disconnect();
        }
      };
      await waitFor('the first run to finish', finished(1), 60_000);

      // Nothing new: no new commit.
      runNow();
      await waitFor('a second run', async () => (await runs()).length >= 2, 60_000);
      await waitFor('the second run to finish', finished(2), 120_000);
      expect(stack.forge.pull(REPO, pr.number).pull.headSha).toBe(firstHead);

      // A newer version: the same PR, refreshed.
      registry.publish('left-pad', '1.2.0');
      runNow();
      await waitFor(
        'the PR to be refreshed',
        () => stack.forge.pull(REPO, pr.number).pull.headSha !== firstHead,
        180_000,
      );
      expect(await stack.forge.readFile(REPO, 'package.json', branch)).toContain('"left-pad": "^1.2.0"');
      expect(await stack.forge.readFile(REPO, 'package-lock.json', branch)).toContain('"version": "1.2.0"');
      expect(stack.forge.pulls(REPO).filter((p) => p.pull.headRef === branch)).toHaveLength(1);
      expect(registry.requests).toContain('left-pad');
    } finally {
      await local.close();
    }
  });

  it('group: none → one PR per package; a bump that breaks the tests gets one coder attempt: fixed → a normal PR, not fixed → a draft naming the failing test; a peer conflict (ERESOLVE) → a draft showing it', async () => {
    const local = await sandboxRegistry();
    const { registry } = local;
    try {
      // 1.1.0 renames answer() to getAnswer(): a breaking change in a minor release.
      for (const name of ['tiny-a', 'tiny-b']) {
        registry.publish(name, '1.0.0', { files: { 'index.js': 'exports.answer = () => 42;\n' } });
        registry.publish(name, '1.1.0', {
          files: { 'index.js': 'exports.getAnswer = () => 42;\n' },
          homepage: `https://example.test/${name}`,
        });
      }
      // tiny-plug 1.1.0 wants tiny-host 2 as a peer, but the project stays on tiny-host 1 (a major
      // release, outside the policy): npm refuses the tree with ERESOLVE.
      registry.publish('tiny-host', '1.0.0');
      registry.publish('tiny-host', '2.0.0');
      registry.publish('tiny-plug', '1.0.0', { peerDependencies: { 'tiny-host': '^1.0.0' } });
      registry.publish('tiny-plug', '1.1.0', { peerDependencies: { 'tiny-host': '^2.0.0' } });
      e2e = await startE2E(redisUrl, {
        noWorker: true,
        env: { DROIDWORKS_REPOSITORIES: REPO, ...local.env },
      });
      const { stack } = e2e;
      // The coder fixes tiny-a's breakage and gives up on tiny-b's.
      e2e.model.setHandler(
        scriptedHandler((request, role, turn) => {
          if (role !== 'coder') return undefined;
          const text = JSON.stringify(request.body);
          if (text.includes('(tiny-a)') && turn === 0)
            return fakeReply.tool('bash', {
              command:
                "sed -i \"s/require('tiny-a').answer()/require('tiny-a').getAnswer()/\" answers.js && echo ok",
            });
          if (text.includes('(tiny-a)'))
            return fakeReply.tool('finish', {
              summary: 'tiny-a 1.1 renamed answer() to getAnswer(); answers.js follows.',
            });
          if (text.includes('(tiny-b)'))
            return fakeReply.tool('finish', { summary: 'I could not fix this one.' });
          return undefined;
        }),
      );
      const calc = (await stack.forge.readFile(REPO, 'calc.js', 'main'))!.replace('a - b', 'a + b');
      const pkg = JSON.parse((await stack.forge.readFile(REPO, 'package.json', 'main'))!) as Record<
        string,
        unknown
      >;
      const deps = {
        'tiny-a': '^1.0.0',
        'tiny-b': '^1.0.0',
        'tiny-host': '^1.0.0',
        'tiny-plug': '^1.0.0',
      };
      await stack.forge.commit(REPO, {
        files: {
          'calc.js': calc,
          'package.json': JSON.stringify({ ...pkg, dependencies: deps }, null, 2) + '\n',
          // Both pinned at 1.0.0: the other group's package stays there (npm keeps what the lock says).
          'package-lock.json': registry.lockFile(
            local.env.DROIDWORKS_NPM_REGISTRY!,
            { 'tiny-a': '1.0.0', 'tiny-b': '1.0.0', 'tiny-host': '1.0.0', 'tiny-plug': '1.0.0' },
            deps,
          ),
          '.gitignore': 'node_modules/\n',
          'answers.js':
            "module.exports = { a: () => require('tiny-a').answer(), b: () => require('tiny-b').answer() };\n",
          'answers.test.js': [
            "const test = require('node:test');",
            "const assert = require('node:assert');",
            "const answers = require('./answers.js');",
            "test('tiny-a answers', () => assert.strictEqual(answers.a(), 42));",
            "test('tiny-b answers', () => assert.strictEqual(answers.b(), 42));",
            '',
          ].join('\n'),
          '.droidworks.yml':
            'test: node --test\nmaintenance:\n  dependency-update: { schedule: "0 6 * * 1", group: none }\nlimits: { prsPerDay: 3 }\n',
        },
        message: 'two dependencies',
      });
      await stack.startWorker();
      const issue = stack.forge.createIssue(REPO, { title: 'deps', as: 'alice' });
      stack.forge.comment(REPO, issue.number, '/droid run dependency-update', 'alice');
      const prOf = (group: string) =>
        stack.forge
          .pulls(REPO)
          .find((p) => p.pull.headRef === `droid/maintenance/dependency-update-${group}`);
      const [a, b, plug] = await e2e.waitFor(
        'one PR per group',
        () => {
          const all = [prOf('tiny-a'), prOf('tiny-b'), prOf('tiny-plug')];
          return all.every(Boolean) ? (all as NonNullable<(typeof all)[number]>[]) : undefined;
        },
        170_000,
      );
      // tiny-a: fixed by the coder, tests pass, a normal PR with the table and the fix.
      expect(a!.pull.draft).toBe(false);
      expect(a!.body).toContain(
        '| `tiny-a` | `^1.0.0` → `^1.1.0` | minor | [notes](https://example.test/tiny-a) |',
      );
      expect(a!.body).not.toContain('tiny-b');
      expect(a!.body).toContain('renamed answer() to getAnswer()');
      const branchA = 'droid/maintenance/dependency-update-tiny-a';
      expect(await stack.forge.readFile(REPO, 'answers.js', branchA)).toContain(
        "require('tiny-a').getAnswer()",
      );
      expect(await stack.forge.readFile(REPO, 'package.json', branchA)).toContain('"tiny-b": "^1.0.0"');
      // tiny-b: the attempt did not fix it, a draft naming the failing test.
      expect(b!.pull.draft).toBe(true);
      expect(b!.body).toContain('| `tiny-b` | `^1.0.0` → `^1.1.0` | minor |');
      expect(b!.body).toContain('`tiny-b answers`');
      expect(b!.body).not.toContain('`tiny-a answers`');
      expect(b!.body).toContain('## Failure');
      expect(b!.body).toContain('answer is not a function'); // the failure itself
      // tiny-plug: npm refused the tree, so no test ran and no coder was asked; a draft shows npm's
      // explanation, with package.json bumped and the lock file as it was.
      expect(plug!.pull.draft).toBe(true);
      expect(plug!.title).toBe('[WIP] Update 1 npm dependency (tiny-plug)');
      expect(plug!.body).toContain('| `tiny-plug` | `^1.0.0` → `^1.1.0` | minor |');
      expect(plug!.body).toContain('peer dependency conflict (ERESOLVE)');
      expect(plug!.body).toContain('## Failure');
      expect(plug!.body).toContain('peer tiny-host@"^2.0.0" from tiny-plug@1.1.0');
      expect(plug!.body).not.toContain('_logs');
      expect(plug!.body).toContain('## Tests\nNot run: `npm install');
      const branchPlug = 'droid/maintenance/dependency-update-tiny-plug';
      expect(await stack.forge.readFile(REPO, 'package.json', branchPlug)).toContain('"tiny-plug": "^1.1.0"');
      const plugLock = JSON.parse((await stack.forge.readFile(REPO, 'package-lock.json', branchPlug))!) as {
        packages: Record<string, { version?: string }>;
      };
      expect(plugLock.packages['node_modules/tiny-plug']?.version).toBe('1.0.0');
      // One fix attempt per group: the coder was asked about each breakage in one conversation.
      const coderFirstTurns = e2e.model.requests.filter(
        (r) => scriptedRoleOf(systemOf(r)) === 'coder' && assistantTurns(r) === 0,
      );
      expect(
        coderFirstTurns.map((r) => (JSON.stringify(r.body).includes('(tiny-a)') ? 'a' : 'b')).sort(),
      ).toEqual(['a', 'b']);
      expect(stack.forge.pulls(REPO)).toHaveLength(3);
      // The dashboard: the groups ran at once, so one line per group shows its last run (id,
      // outcome, cost, its PR); a single "last run" was whichever group happened to end last.
      const dashboardBody = () => issuesOf(stack).find((i) => i.labels.includes(DASHBOARD_LABEL))?.body ?? '';
      const groupLine = (group: string) =>
        new RegExp(
          `\\*\\*dependency-update\\*\\* \\(\`0 6 \\* \\* 1\`\\)\n(?: {2}- last run .*\n)*? {2}- last run \\(\`${group}\`\\): \`(maint-dependency-update-[0-9a-f]{10})\` (\\w+), \\$\\d+\\.\\d{2}, PR #(\\d+)`,
        ).exec(dashboardBody()) ?? undefined;
      const [lineA, lineB, linePlug] = await e2e.waitFor(
        "the dashboard to show each group's last run",
        () => {
          const all = [groupLine('tiny-a'), groupLine('tiny-b'), groupLine('tiny-plug')];
          return all.every(Boolean) ? (all as RegExpExecArray[]) : undefined;
        },
        60_000,
      );
      expect([lineA![2], Number(lineA![3])]).toEqual(['succeeded', a!.number]);
      expect([lineB![2], Number(lineB![3])]).toEqual(['failed', b!.number]); // the draft
      expect([linePlug![2], Number(linePlug![3])]).toEqual(['failed', plug!.number]); // the conflict's draft
      expect(dashboardBody()).not.toContain('- last run: ');
      // Exactly those three runs happened (no run of the ungrouped `all` branch, none for tiny-host).
      const redis = createRedisConnection(stack.redisUrl, { role: 'worker' });
      try {
        const runs = await new RunLedger(redis, stack.config.queuePrefix).recent(10);
        expect(runs.map((r) => r.runId).sort()).toEqual([lineA![1], lineB![1], linePlug![1]].sort());
      } finally {
        redis.disconnect();
      }
    } finally {
      await local.close();
    }
  });

  it("never force-pushes over someone else's commit on a maintenance branch: it comments on the PR instead", async () => {
    const registry = await startNpmRegistry();
    try {
      registry.publish('left-pad', '1.0.0');
      registry.publish('left-pad', '1.1.0');
      e2e = await startE2E(redisUrl, {
        noWorker: true,
        env: { DROIDWORKS_REPOSITORIES: REPO, DROIDWORKS_NPM_REGISTRY: registry.url },
      });
      const { stack } = e2e;
      const calc = (await stack.forge.readFile(REPO, 'calc.js', 'main'))!.replace('a - b', 'a + b');
      const pkg = JSON.parse((await stack.forge.readFile(REPO, 'package.json', 'main'))!) as Record<
        string,
        unknown
      >;
      await stack.forge.commit(REPO, {
        files: {
          'calc.js': calc,
          'package.json': JSON.stringify({ ...pkg, dependencies: { 'left-pad': '^1.0.0' } }, null, 2) + '\n',
          '.droidworks.yml':
            'test: node --test\nmaintenance:\n  dependency-update: { schedule: "0 6 * * 1" }\n',
        },
        message: 'a dependency',
      });
      await stack.startWorker();
      const issue = stack.forge.createIssue(REPO, { title: 'deps', as: 'alice' });
      const branch = 'droid/maintenance/dependency-update-all';
      stack.forge.comment(REPO, issue.number, '/droid run dependency-update', 'alice');
      const pr = await waitFor(
        'the dependency PR',
        () => stack.forge.pulls(REPO).find((p) => p.pull.headRef === branch),
        180_000,
      );
      // A person adds a commit to the droid's branch.
      const theirs = await stack.forge.commit(REPO, {
        branch,
        files: { 'NOTES.md': 'pinned on purpose\n' },
        message: 'human note',
        as: 'alice',
      });
      await waitFor(
        'the PR to see the new head',
        () => stack.forge.pull(REPO, pr.number).pull.headSha === theirs,
      );
      registry.publish('left-pad', '1.2.0');
      stack.forge.comment(REPO, issue.number, '/droid run dependency-update', 'alice');
      await waitFor(
        'the comment on the PR',
        () => stack.forge.comments(REPO, pr.number).some((c) => c.body.includes('did not push')),
        120_000,
      );
      expect(stack.forge.pull(REPO, pr.number).pull.headSha).toBe(theirs);
      expect(await stack.forge.readFile(REPO, 'package.json', branch)).toContain('"left-pad": "^1.1.0"');
      expect(stack.forge.pulls(REPO).filter((p) => p.pull.headRef === branch)).toHaveLength(1);
    } finally {
      await registry.close();
    }
  });
});
