import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';

/** Final state in the progress comment and the `droid:done` / `droid:failed` label on the subject. */
export const report: StepImpl<RunContext> = {
  async run(ctx) {
    const { state, job, services, repoConfig } = ctx;
    const { owner, name } = job.repo;
    if (state.status === 'running') {
      // A draft PR with failing tests is an outcome to look at, not a success.
      const failing = state.tests !== undefined && !state.tests.passed;
      state.status = failing ? 'failed' : 'succeeded';
      if (failing)
        state.error ??= `the tests still fail after ${state.tests!.round} round(s)${state.pullRequest ? `; draft PR #${state.pullRequest.number} has the failure report` : ''}.`;
    }
    await ctx.progress(true);
    // A maintenance run reports on the dashboard issue's body, not with labels on it.
    if (job.maintenance) return services.maintenance?.ended(ctx);
    if (state.status === 'cancelled') return;
    const { done, failed } = repoConfig.labels;
    const [add, remove] = state.status === 'succeeded' ? [done, failed] : [failed, done];
    const issue = { owner, repo: name, issueNumber: job.subject.number };
    await services.github.addLabels(issue, [add]);
    await services.github.removeLabel(issue, remove);
  },
};
