import { runAgent } from '../agent/run-agent.js';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { runBudgets } from './run-budgets.js';

/**
 * The coder role's tool loop in the run's sandbox. Later rounds get the failing tests or the
 * review findings as feedback. Budgets are the run's remaining budgets, so rounds cannot leak.
 *
 * Options (`with:`): `fixOnly: true` runs only when a later step sent feedback back (a breakage to
 * fix; otherwise the step is skipped), `maxSteps: n` lowers the agent's step budget for each round.
 */
export const code: StepImpl<RunContext> = {
  async run(ctx, step) {
    const { state, job } = ctx;
    if (!state.workspace || !state.sandbox || !state.issue)
      throw new Error('code needs the checkout step first');
    if (step.options.fixOnly === true && !state.feedback) return undefined;
    const budgets = runBudgets(ctx);
    const maxSteps = step.options.maxSteps;
    if (budgets.exhausted)
      throw new StepFailedError('code', `the run's ${budgets.exhausted} budget is used up`);
    state.codeRounds += 1;
    const body = [
      state.issue.body,
      job.instructions ? `Instructions from @${job.requestedBy}:\n${job.instructions}` : '',
      state.plan?.length ? `Plan:\n${state.plan.map((p) => `- ${p}`).join('\n')}` : '',
      state.feedback ? `Feedback from the previous round (fix this):\n${state.feedback}` : '',
      ctx.workflow.prompt ? `Working guidance:\n${ctx.workflow.prompt}` : '',
    ]
      .filter(Boolean)
      .join('\n\n');
    const result = await runAgent({
      task: {
        title: state.issue.title,
        body,
        comments: state.issue.comments.map((c) => ({ author: c.user, body: c.body })),
      },
      workspace: state.workspace.dir,
      workspaceAliases: ['/workspace'],
      executor: state.sandbox,
      models: ctx.services.models,
      role: (step.options.role as 'coder' | undefined) ?? 'coder',
      budgets:
        typeof maxSteps === 'number' && maxSteps > 0
          ? { ...budgets.remaining, maxSteps: Math.min(budgets.remaining.maxSteps, maxSteps) }
          : budgets.remaining,
      instructions: ctx.repoConfig.instructions,
      sink: ctx.sink,
      signal: ctx.signal,
      secrets: ctx.services.secrets,
      logger: ctx.log,
      roles: ctx.repoConfig.models,
      oracle: { maxCalls: Math.max(0, oracleLimit(ctx) - (state.oracleCalls ?? 0)) },
    });
    state.oracleCalls = (state.oracleCalls ?? 0) + result.oracleCalls;
    state.agent = result;
    state.tokens += result.usage.inputTokens + result.usage.outputTokens + result.usage.cachedInputTokens;
    state.costUsd = state.costUsd === null || !result.costKnown ? null : state.costUsd + result.costUsd;
    state.feedback = undefined;
    await ctx.progress();
    if (result.reason === 'cancelled') ctx.signal.throwIfAborted();
    if (result.reason === 'error')
      throw new StepFailedError('code', result.error ?? 'the coding agent failed', true);
    if (result.reason !== 'finished')
      ctx.state.note = `The coding agent stopped early: ${result.reason.replace('_', ' ')}.`;
  },
};

/** The run's `ask_oracle` cap: the server's, lowered (never raised) by the repository and the workflow. */
export function oracleLimit(ctx: RunContext): number {
  return Math.min(
    ctx.services.config.budgets.maxOracleCalls,
    ctx.repoConfig.budgets.maxOracleCalls ?? Infinity,
    ctx.workflow.budgets.maxOracleCalls ?? Infinity,
  );
}
