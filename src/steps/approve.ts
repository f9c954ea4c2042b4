import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';

/** Waits for `/droid approve` from a writer when the repository asks for plan approval. */
export const approve: StepImpl<RunContext> = {
  async run(ctx) {
    if (!ctx.repoConfig.planApproval) return undefined;
    const wait = ctx.services.waitForApproval;
    if (!wait)
      throw new StepFailedError('approve', 'plan approval is required but this worker cannot wait for it');
    ctx.state.status = 'waiting_approval';
    await ctx.services.ledger.setState(ctx.runId, { status: 'waiting_approval' });
    ctx.state.note = `Reply \`${ctx.services.config.commandPrefix} approve\` to go ahead with this plan.`;
    await ctx.progress(true);
    const subject = `${ctx.job.repo.owner}/${ctx.job.repo.name}#${ctx.job.subject.number}`.toLowerCase();
    try {
      const by = await wait(subject, ctx.repoConfig.approvalTimeoutMinutes * 60_000, ctx.signal);
      await ctx.sink.emit({ type: 'plan.approved', by });
    } catch (err) {
      ctx.signal.throwIfAborted();
      throw new StepFailedError(
        'approve',
        `no approval within ${ctx.repoConfig.approvalTimeoutMinutes} minutes`,
        false,
        { cause: err },
      );
    }
    ctx.state.status = 'running';
    ctx.state.note = undefined;
    await ctx.services.ledger.setState(ctx.runId, { status: 'running' });
    return { saved: { approved: true } };
  },
  restore() {},
};
