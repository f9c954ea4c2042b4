import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import {
  droidworksContainers,
  openIssue,
  outcomeOf,
  progressOf,
  startE2E,
  type E2E,
} from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');

/** Run attempts are retried after 5 s, 10 s…: this is long enough to see a second one start. */
const RETRY_WINDOW_MS = 7_000;

describeDocker('every failure explains itself, once', () => {
  let e2e: E2E | undefined;
  afterEach(async () => {
    await e2e?.close();
    e2e = undefined;
  });

  async function failedRun(settings: string): Promise<{ comment: string; starts: number; status: string }> {
    e2e = await startE2E(redisUrl);
    const { stack } = e2e;
    const repo = stack.repo.full;
    await stack.forge.commit(repo, { files: { '.droidworks.yml': settings }, message: 'settings' });
    const issue = openIssue(stack);
    expect(await waitFor('droid:failed', () => outcomeOf(stack, issue.number), 120_000)).toBe('droid:failed');
    await new Promise((resolve) => setTimeout(resolve, RETRY_WINDOW_MS));
    const comment = progressOf(stack, issue.number) ?? '';
    const runId = /droidworks:progress run=(\S+) -->/.exec(comment)?.[1] ?? '';
    const ledger = stack.services!.ledger;
    const starts = (await ledger.events(runId)).filter((e) => e.type === 'run.started').length;
    expect(stack.forge.pulls(repo)).toHaveLength(0);
    expect(e2e.model.requests).toHaveLength(0);
    expect(await droidworksContainers(stack)).toEqual([]);
    // One progress comment, nothing else from droidworks.
    expect(
      stack.forge.comments(repo, issue.number).filter((c) => c.user.login === 'droidworks[bot]'),
    ).toHaveLength(1);
    return { comment, starts, status: (await ledger.state(runId)).status ?? '' };
  }

  it('a runner image that does not exist: the comment names it and doctor, after one attempt', async () => {
    const { comment, starts, status } = await failedRun('image: droidworks/runner:does-not-exist-0\n');
    expect(comment).toContain('Failed');
    expect(comment).toContain(
      'the runner image droidworks/runner:does-not-exist-0 is missing: run `droidworks doctor`',
    );
    expect(starts).toBe(1);
    expect(status).toBe('failed');
  });

  it('an install command that fails: the comment names the command and its exit code, after one attempt', async () => {
    const { comment, starts, status } = await failedRun(
      `install: "sh -c 'echo cannot reach registry.npmjs.org >&2; exit 7'"\n`,
    );
    expect(comment).toContain('Failed');
    expect(comment).toContain(
      "the install command `sh -c 'echo cannot reach registry.npmjs.org >&2; exit 7'` exited with code 7",
    );
    expect(comment).toContain('cannot reach registry.npmjs.org');
    expect(starts).toBe(1);
    expect(status).toBe('failed');
  });
});
