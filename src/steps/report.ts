import { producedFailure, type RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';

/**
 * Decides the run's outcome from what it produced and shows it in the progress comment. The labels
 * (`droid:done` / `droid:failed`) and the ledger's final state are written by the engine's `endRun`,
 * so a run that never reaches this step ends the same way.
 */
export const report: StepImpl<RunContext> = {
  async run(ctx) {
    const { state } = ctx;
    if (state.status === 'running' && !state.retrying) {
      // A draft PR with failing tests is an outcome to look at, not a success.
      const failing = producedFailure(state);
      state.status = failing ? 'failed' : 'succeeded';
      const draft = state.pullRequest ? `; draft PR #${state.pullRequest.number} has the failure report` : '';
      if (state.installFailure)
        state.error ??= `npm could not apply the dependency updates: their peer dependencies conflict (ERESOLVE)${draft}.`;
      else if (failing) state.error ??= `the tests still fail after ${state.tests!.round} round(s)${draft}.`;
    }
    await ctx.progress(true);
    // A maintenance run reports on the dashboard issue's body.
    if (ctx.job.maintenance) await ctx.services.maintenance?.ended(ctx);
  },
};
