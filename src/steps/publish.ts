import { producedFailure, type RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { redact } from '../util/redact.js';

/** How much of the branch's diff the ledger keeps (the dashboard shows it). */
const MAX_DIFF_CHARS = 20_000;

/**
 * Commits and pushes the droid's branch from the host, then opens or updates the one PR for it
 * (looked up by head branch: a retry, a crash or a redelivery never opens a second one) and adds
 * the `droidworks/tests` check run on the head commit.
 */
export const publish: StepImpl<RunContext> = {
  async run(ctx) {
    const { state, job, services, repoConfig } = ctx;
    if (!state.workspace || !state.issue) throw new Error('publish needs the checkout step first');
    const { owner, name } = job.repo;
    const failing = producedFailure(state);
    if (failing && repoConfig.onTestsFailing === 'none')
      throw new StepFailedError(
        'publish',
        `${state.installFailure ? 'npm could not apply the updates (ERESOLVE)' : `the tests still fail after ${state.tests!.round} round(s)`}; no pull request is opened (onTestsFailing: none)`,
      );
    const diff = await state.workspace.diff(ctx.signal);
    const files = [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1]!);
    const summary = redact(state.summary ?? state.agent?.summary ?? '', services.secrets);
    const title = job.maintenance
      ? `${failing ? '[WIP] ' : ''}${state.issue.title}`
      : job.subject.type === 'issue'
        ? `${failing ? '[WIP] ' : ''}Fix #${job.subject.number}: ${state.issue.title}`
        : state.issue.title;
    const pushed = await state.workspace.commitAndPush({
      message: `${title}\n\n${summary}\n\nRun: ${ctx.runId}`.trim(),
      signal: ctx.signal,
    });
    if (!pushed.pushed && files.length === 0 && job.subject.type === 'issue')
      throw new StepFailedError(
        'publish',
        'the droid finished without changing any file, so there is nothing to propose',
      );
    state.headSha = pushed.sha;
    await ctx.sink.emit({
      type: 'pushed',
      branch: state.workspace.branch,
      sha: pushed.sha,
      rebased: pushed.rebased,
      diff: redact(
        diff.length > MAX_DIFF_CHARS
          ? `${diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)`
          : diff,
        services.secrets,
      ),
    });

    if (job.subject.type === 'issue') {
      const repo = { owner, repo: name };
      const { branch: base } = await services.github.getDefaultBranchSha(repo, { signal: ctx.signal });
      const { pullRequest: pr, created } = await services.github.upsertPullRequest(repo, {
        head: state.workspace.branch,
        base,
        title,
        body: pullRequestBody(ctx, files, summary, failing),
        draft: failing,
      });
      state.pullRequest = { number: pr.number, url: pr.htmlUrl, draft: failing };
      if (job.maintenance)
        await services.maintenance?.pushed(ctx, {
          branch: state.workspace.branch,
          sha: pushed.sha,
          prCreated: created,
        });
      await ctx.sink.emit({ type: 'pull_request', number: pr.number, created, draft: failing });
    }
    if (state.tests) {
      await services.github.createCheckRun(
        { owner, repo: name },
        {
          name: 'droidworks/tests',
          headSha: pushed.sha,
          conclusion: state.tests.passed ? 'success' : 'failure',
          externalId: ctx.runId,
          output: {
            title: state.tests.passed
              ? 'Tests pass'
              : `Tests fail (${state.tests.failedTests.length || 'some'} failing)`,
            summary: `\`${state.tests.command}\` exited ${state.tests.exitCode} in round ${state.tests.round}.`,
            text: '```\n' + redact(state.tests.output.slice(-30_000), services.secrets) + '\n```',
          },
        },
      );
    }
    await ctx.progress(true);
    return { saved: { pr: state.pullRequest?.number ?? null, sha: pushed.sha } };
  },
};

function pullRequestBody(ctx: RunContext, files: string[], summary: string, failing: boolean): string {
  const { state, job } = ctx;
  const tests = state.tests;
  const cost = state.costUsd === null ? 'unknown' : `$${state.costUsd.toFixed(2)}`;
  const conflict = state.installFailure;
  return [
    conflict
      ? '> ⚠️ npm could not apply these updates (a peer dependency conflict); this draft shows why.\n'
      : failing
        ? '> ⚠️ The tests still fail; this draft shows the attempt and the failure report.\n'
        : '',
    '## Summary',
    summary || '_The agent gave no summary._',
    // A maintenance step wrote the summary; the coder's attempt (e.g. fixing a breakage) is its own part.
    job.maintenance && state.summary && state.agent?.summary
      ? `## Changes by the coder\n${redact(state.agent.summary, ctx.services.secrets)}`
      : '',
    state.plan?.length ? `## Plan\n${state.plan.map((p) => `- [x] ${p}`).join('\n')}` : '',
    conflict && !tests
      ? `## Tests\nNot run: \`${conflict.command}\` failed before any test could run.`
      : tests
        ? `## Tests\n\`${tests.command}\`: ${tests.passed ? 'passing' : 'failing'} (round ${tests.round}, ${(tests.durationMs / 1000).toFixed(1)} s)${tests.failedTests.length ? `\nFailing: ${tests.failedTests.map((t) => `\`${t}\``).join(', ')}` : ''}`
        : '## Tests\nNo test command was found.',
    // A maintenance draft shows the failure itself: no one asked for this PR, so the reviewer starts here.
    failing && job.maintenance && (conflict ?? tests)
      ? `## Failure\n\`\`\`\n${failureTail(ctx, (conflict ?? tests)!.output)}\n\`\`\``
      : '',
    `## Files changed\n${files.map((f) => `- \`${f}\``).join('\n') || '_none_'}`,
    `<sub>droidworks run \`${ctx.runId}\` · ${state.tokens.toLocaleString('en-US')} tokens · ${cost} · requested by @${job.requestedBy}</sub>`,
    '',
    job.maintenance
      ? `Scheduled maintenance (\`${ctx.workflow.name}\`); its status is on the dashboard issue #${job.subject.number}. A later run refreshes this pull request.`
      : `Closes #${job.subject.number}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The last lines of a failing test run, redacted, fenced safely. */
function failureTail(ctx: RunContext, output: string): string {
  return redact(output, ctx.services.secrets)
    .trimEnd()
    .split('\n')
    .slice(-40)
    .join('\n')
    .slice(-4000)
    .replace(/`{3,}/g, '`‵`');
}
