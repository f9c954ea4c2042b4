import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import {
  droidworksContainers,
  openIssue,
  outcomeOf,
  startE2E,
  testsPassOnBranch,
  type E2E,
} from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');

describeDocker('label → pull request', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  it('turns a labelled issue into one tested PR, a check run, one progress comment and droid:done', async () => {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.', label: false });
    // Before the droid: the repository's own tests fail on the default branch.
    expect((await testsPassOnBranch(stack, 'main')).passed).toBe(false);

    stack.forge.addLabel(repo, issue.number, 'droid', 'alice');

    expect(await waitFor('droid:done or droid:failed', () => outcomeOf(stack, issue.number), 150_000)).toBe(
      'droid:done',
    );

    const pulls = stack.forge.pulls(repo);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr.pull.headRef).toMatch(new RegExp(`^droid/${issue.number}-add-returns-the-wrong-result`));
    expect(pr.pull.draft).toBe(false);
    expect(pr.body).toContain(`Closes #${issue.number}`);
    // The branch the droid pushed makes the failing test pass, checked here outside droidworks.
    const check = await testsPassOnBranch(stack, pr.pull.headRef);
    expect(check.output).toContain('pass 2');
    expect(check.passed).toBe(true);

    const checkRuns = stack.forge.state
      .requireRepo(repo)
      .checkRuns.filter((c) => c.headSha === pr.pull.headSha);
    expect(checkRuns.map((c) => [c.name, c.conclusion])).toEqual([['droidworks/tests', 'success']]);

    const botComments = stack.forge
      .comments(repo, issue.number)
      .filter((c) => c.user.login === 'droidworks[bot]');
    expect(botComments).toHaveLength(1);
    expect(botComments[0]!.body).toContain('Done');
    expect(botComments[0]!.body).toContain(`#${pr.number}`);

    // The sandbox is released right after the final report.
    await waitFor(
      'no container left',
      async () => (await droidworksContainers(e2e!.stack)).length === 0,
      15_000,
    );
    // Nothing droidworks caused (its comment, push, label, check run) started a second run.
    expect(
      e2e.model.requests.filter((r) => JSON.stringify(r.body).includes('You are the planner')),
    ).toHaveLength(1);
  });
});
