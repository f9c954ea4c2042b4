import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import {
  openIssue,
  outcomeOf,
  progressOf,
  startE2E,
  testsPassOnBranch,
  type E2E,
} from '../support/e2e-stack.js';
import { fakeReply } from '../support/fake-model-server.js';
import { scriptedHandler } from '../support/scripted-model.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');

describeDocker('repository settings and workflows', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  it('an invalid .droidworks.yml gets a comment naming every bad field, and no run', async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    await stack.forge.commit(repo, {
      files: { '.droidworks.yml': 'testRounds: 99\ntset: npm test\n' },
      message: 'config',
    });
    const issue = openIssue(stack);

    const complaint = await waitFor('the configuration complaint', () =>
      stack.forge.comments(repo, issue.number).find((c) => c.body.includes('is invalid')),
    );
    expect(complaint.body).toContain('testRounds');
    expect(complaint.body).toContain('tset');
    await waitFor('the progress comment to say failed', () =>
      stack.forge
        .comments(repo, issue.number)
        .some((c) => c.body.includes('droidworks:progress') && c.body.includes('Failed')),
    );
    expect(stack.forge.pulls(repo)).toHaveLength(0);
    expect(e2e.model.requests).toHaveLength(0);
  });

  it('waits for /droid approve when the repository asks for plan approval', async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    await stack.forge.commit(repo, {
      files: { '.droidworks.yml': 'planApproval: true\n' },
      message: 'ask for approval',
    });
    const issue = openIssue(stack);
    const progress = () => progressOf(stack, issue.number);
    await waitFor(
      'the plan to wait for approval',
      () => progress()?.includes('Waiting for plan approval'),
      60_000,
    );
    // Nothing is coded before the approval.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(
      e2e.model.requests.filter((r) => JSON.stringify(r.body).includes('str_replace_based_edit_tool')),
    ).toHaveLength(0);

    stack.forge.comment(repo, issue.number, 'Plan looks right.\n/droid approve', 'alice');
    await waitFor('the run to finish', () => outcomeOf(stack, issue.number) === 'droid:done', 120_000);
    expect(stack.forge.pulls(repo)).toHaveLength(1);
  });

  it('a review requesting changes on the droid PR starts a round on its branch', async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issue = openIssue(stack);
    await waitFor('the first run', () => outcomeOf(stack, issue.number) === 'droid:done', 120_000);
    const pr = stack.forge.pulls(repo)[0]!;
    const firstHead = pr.pull.headSha;

    e2e.model.setHandler(
      scriptedHandler((request, role, turn) => {
        if (role !== 'coder' || !JSON.stringify(request.body).includes('Please add a docstring'))
          return undefined;
        if (turn === 0)
          return fakeReply.tool('str_replace_based_edit_tool', {
            command: 'str_replace',
            path: 'calc.js',
            old_str: 'function add(a, b) {',
            new_str: '/** Sum of a and b. */\nfunction add(a, b) {',
          });
        return fakeReply.tool('finish', { summary: 'Documented add().' });
      }),
    );
    stack.forge.submitReview(repo, pr.number, {
      event: 'REQUEST_CHANGES',
      body: 'Please add a docstring to add().',
      as: 'alice',
    });
    await waitFor(
      'a new head commit',
      () => stack.forge.pull(repo, pr.number).pull.headSha !== firstHead,
      120_000,
    );
    expect(await stack.forge.readFile(repo, 'calc.js', pr.pull.headRef)).toContain('/** Sum of a and b. */');
    expect((await testsPassOnBranch(stack, pr.pull.headRef)).passed).toBe(true);
    expect(stack.forge.pulls(repo)).toHaveLength(1);
  });

  it("a repository's own workflow replaces the built-in of the same name", async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    // resolve-issue without plan and review steps.
    const own = [
      'name: resolve-issue',
      'description: our leaner flow',
      'trigger: { label: $triggerLabel }',
      'on: issue',
      'permissions: [comment, push, open_pr, label, check_run]',
      'steps:',
      '  - step: checkout',
      '  - step: code',
      '  - step: test',
      '  - step: publish',
      '  - step: report',
      '    if: always',
    ].join('\n');
    await stack.forge.commit(repo, {
      files: { '.droidworks/workflows/resolve-issue.yml': own },
      message: 'own workflow',
    });
    const issue = openIssue(stack);
    await waitFor('the run to finish', () => outcomeOf(stack, issue.number) === 'droid:done', 120_000);
    const roles = e2e.model.requests.map((r) => JSON.stringify(r.body));
    expect(roles.filter((b) => b.includes('You are the planner'))).toHaveLength(0);
    expect(roles.filter((b) => b.includes('You review a change'))).toHaveLength(0);
    expect(stack.forge.pulls(repo)).toHaveLength(1);
  });

  it('holds a second run of the same repository until the first is done (per-repository limit)', async () => {
    e2e = await startE2E(redisUrl, {
      env: { DROIDWORKS_CONCURRENCY: '4', DROIDWORKS_CONCURRENCY_PER_REPO: '1' },
    });
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issues = [1, 2].map((i) =>
      stack.forge.createIssue(repo, {
        title: `add() returns the wrong result (${i})`,
        body: 'fix add',
        as: 'alice',
      }),
    );
    for (const issue of issues) stack.forge.addLabel(repo, issue.number, 'droid', 'alice');
    for (const issue of issues)
      await waitFor(
        `run of #${issue.number}`,
        () => outcomeOf(stack, issue.number) === 'droid:done',
        150_000,
      );
    expect(stack.forge.pulls(repo)).toHaveLength(2);
    // From the ledgers: the two runs' working spans do not overlap.
    const spans = [];
    for (const issue of issues) {
      const progress = stack.forge
        .comments(repo, issue.number)
        .find((c) => c.body.includes('droidworks:progress'))!;
      const runId = /run=(\S+) -->/.exec(progress.body)![1]!;
      const events = await stack.services!.ledger.events(runId);
      const started = events.filter((e) => e.type === 'run.started').map((e) => e.at);
      const finished = events.filter((e) => e.type === 'run.finished').map((e) => e.at);
      spans.push({
        start: Math.min(...started),
        end: Math.max(...finished),
        waited: events.some((e) => e.type === 'run.waiting'),
      });
    }
    spans.sort((a, b) => a.start - b.start);
    expect(spans[1]!.start).toBeGreaterThanOrEqual(spans[0]!.end);
    expect(spans.some((s) => s.waited)).toBe(true);
  });
});
