import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import { decideStale, STALE_MARKER } from '../schedules/decide-stale.js';

/**
 * Droid pull requests without activity for `staleDays` get a comment, and are closed (their branch
 * deleted) `graceDays` after it; `droid/*` branches without an open pull request are deleted.
 * Branches that are not droid branches are never touched.
 */
export const staleBranches: StepImpl<RunContext> = {
  async run(ctx) {
    const { services, job, repoConfig } = ctx;
    const github = services.github;
    const repo = { owner: job.repo.owner, repo: job.repo.name };
    const options = repoConfig.maintenance['stale-branches'] ?? { staleDays: 30, graceDays: 7 };
    const signal = ctx.signal;
    const open = (await github.listPullRequests(repo, { state: 'open', signal })).filter((p) =>
      p.headRef.startsWith('droid/'),
    );
    const warned: number[] = [];
    const closed: number[] = [];
    for (const pr of open) {
      const issue = { ...repo, issueNumber: pr.number };
      const comments = await github.listComments(issue, { signal });
      const warning = comments.find((c) => c.author.type === 'Bot' && c.body.includes(STALE_MARKER));
      const human = comments.filter((c) => c.author.type !== 'Bot').at(-1);
      const action = decideStale({
        updatedAt: pr.updatedAt,
        warnedAt: warning?.createdAt,
        lastHumanCommentAt: human?.createdAt,
        staleDays: options.staleDays,
        graceDays: options.graceDays,
        now: Date.now(),
      });
      if (action === 'warn') {
        await github.upsertComment(
          issue,
          STALE_MARKER,
          `${STALE_MARKER}\nThis droid pull request has had no activity for ${options.staleDays} days. It will be closed and its branch \`${pr.headRef}\` deleted in ${options.graceDays} days unless someone comments or pushes.`,
          { signal },
        );
        warned.push(pr.number);
      } else if (action === 'close') {
        await github.createComment(
          issue,
          `Closed by the scheduled **stale-branches** run: no activity ${options.graceDays} days after the warning.`,
          { signal },
        );
        await github.updatePullRequest(repo, pr.number, { state: 'closed' }, { signal });
        await github.deleteBranch(repo, pr.headRef, { signal });
        closed.push(pr.number);
      }
    }
    const stillOpen = new Set(
      (await github.listPullRequests(repo, { state: 'open', signal })).map((p) => p.headRef),
    );
    const deleted: string[] = [];
    for (const branch of await github.listBranches(repo, 'droid/', { signal }))
      if (
        branch.startsWith('droid/') &&
        !stillOpen.has(branch) &&
        (await github.deleteBranch(repo, branch, { signal }))
      )
        deleted.push(branch);
    await ctx.sink.emit({ type: 'stale_branches', warned, closed, deleted });
    ctx.state.note = `Warned ${warned.length} stale PR(s), closed ${closed.length}, deleted ${deleted.length} branch(es) without an open PR.`;
    ctx.log.info({ warned, closed, deleted }, 'stale branches handled');
  },
};
