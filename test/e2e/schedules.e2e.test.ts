import { afterEach, expect, inject, it } from 'vitest';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { MaintenanceStore, type TickRecord } from '../../src/schedules/maintenance-store.js';
import { DASHBOARD_LABEL } from '../../src/schedules/render-dashboard.js';
import { SAMPLE_REPO } from '../../src/demo/sample-repo.js';
import type { RunningWorker } from '../../src/cli/serve-worker.js';
import { describeDocker } from '../support/docker.js';
import { startE2E, type E2E } from '../support/e2e-stack.js';
import { fakeReply } from '../support/fake-model-server.js';
import { scriptedHandler } from '../support/scripted-model.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');
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

    // Restart: stop both workers, let ticks pass, start one again.
    await first.close();
    for (const w of extra.splice(0)) await w.close();
    const down = Date.now();
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
});
