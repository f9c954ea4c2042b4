import type { RunContext } from '../engine/run-context.js';
import { StepFailedError } from '../engine/run-steps.js';
import type { GitHubHost } from '../github/types.js';
import type { ServedRepo } from './desired-schedules.js';
import type { MaintenanceStore } from './maintenance-store.js';

/** What a maintenance run's checkout works on. */
export interface MaintenanceCheckout {
  readonly title: string;
  /** The task: the workflow's prompt. */
  readonly body: string;
  readonly branch: string;
  /** The branch has an open PR: build on it (a new commit), never start it over. */
  readonly existing: boolean;
}

/** How the issue steps behave differently in a scheduled maintenance run (`job.maintenance`). */
export interface MaintenanceRunHooks {
  checkout(ctx: RunContext): Promise<MaintenanceCheckout>;
  pushed(ctx: RunContext, push: { branch: string; sha: string; prCreated: boolean }): Promise<void>;
  ended(ctx: RunContext): Promise<void>;
}

export function createMaintenanceRunHooks(d: {
  readonly github: GitHubHost;
  readonly store: MaintenanceStore;
  readonly refreshDashboard: (repo: ServedRepo) => Promise<void>;
}): MaintenanceRunHooks {
  const full = (ctx: RunContext): string => `${ctx.job.repo.owner}/${ctx.job.repo.name}`;
  return {
    async checkout(ctx) {
      const { job, workflow } = ctx;
      const branch = job.branch ?? `droid/maintenance/${workflow.name}`;
      const ref = { owner: job.repo.owner, repo: job.repo.name };
      const pr = await d.github.findPullRequestByHead(ref, branch, { signal: ctx.signal });
      if (pr) {
        const ours = await d.store.lastPushed(full(ctx), branch);
        if (ours !== pr.headSha) {
          await d.github.upsertComment(
            { ...ref, issueNumber: pr.number },
            `<!-- droidworks:foreign-commit=${pr.headSha} -->`,
            `<!-- droidworks:foreign-commit=${pr.headSha} -->\nThe scheduled **${workflow.name}** run \`${ctx.runId}\` left this branch alone: its head \`${pr.headSha.slice(0, 7)}\` is a commit droidworks did not push, and droidworks never force-pushes over someone else's work. Merge or close this pull request (or push droidworks' last commit back) and the next run refreshes it again.`,
            { signal: ctx.signal },
          );
          throw new StepFailedError(
            'checkout',
            `${branch} has a commit droidworks did not push (PR #${pr.number}); left alone`,
          );
        }
      }
      return {
        title: `${workflow.name}: ${workflow.description}`.slice(0, 200),
        body: workflow.prompt ?? workflow.description,
        branch,
        existing: pr !== null,
      };
    },
    async pushed(ctx, push) {
      await d.store.setLastPushed(full(ctx), push.branch, push.sha);
      if (push.prCreated) await d.store.countOpenedPr(full(ctx));
    },
    async ended(ctx) {
      const { state, job } = ctx;
      await d.store.addCost(full(ctx), state.costUsd ?? 0);
      await d.store.setLastRun(
        full(ctx),
        job.workflow,
        {
          runId: ctx.runId,
          status: state.status,
          costUsd: state.costUsd,
          at: Date.now(),
          ...(state.pullRequest
            ? { pullRequest: { number: state.pullRequest.number, url: state.pullRequest.url } }
            : {}),
          ...(state.error ? { note: state.error.slice(0, 200) } : {}),
        },
        job.dependencyGroup,
      );
      await d.refreshDashboard({ owner: job.repo.owner, name: job.repo.name });
    },
  };
}
