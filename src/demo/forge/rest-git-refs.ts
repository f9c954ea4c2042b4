import { notFound, repoParam, requireRole, type Router } from './http.js';
import { isSafeRef } from './git-store.js';
import { repoApiUrl } from './serialize.js';
import { refreshPulls } from './pull-ops.js';
import { emitIssueEvent } from './issue-ops.js';

/**
 * Listing and deleting branches through the git refs API (`GET /git/matching-refs/heads/<prefix>`,
 * `DELETE /git/refs/heads/<branch>`), as scheduled maintenance uses them for stale droid branches.
 * Deleting a pull request's head branch closes the pull request, as on GitHub.
 */
export function registerGitRefRoutes(router: Router): void {
  router.on('GET', '/repos/:owner/:repo/git/matching-refs/*ref', async (ctx) => {
    const repo = repoParam(ctx);
    const prefix = `refs/${ctx.params.ref ?? ''}`;
    const branches = await ctx.state.git.branches(repo.owner.login, repo.name);
    return {
      body: branches
        .map((b) => ({ ref: `refs/heads/${b.name}`, sha: b.sha }))
        .filter((r) => r.ref.startsWith(prefix))
        .map((r) => ({
          ref: r.ref,
          node_id: r.ref,
          url: `${repoApiUrl(ctx.state, repo)}/git/${r.ref}`,
          object: { type: 'commit', sha: r.sha, url: `${repoApiUrl(ctx.state, repo)}/git/commits/${r.sha}` },
        })),
    };
  });

  router.on('DELETE', '/repos/:owner/:repo/git/refs/*ref', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const ref = `refs/${ctx.params.ref ?? ''}`;
    const sha = isSafeRef(ref) ? await ctx.state.git.revParse(repo.owner.login, repo.name, ref) : null;
    if (!sha) throw notFound();
    await ctx.state.git.run(ctx.state.git.dir(repo.owner.login, repo.name), ['update-ref', '-d', ref]);
    const branch = ref.replace(/^refs\/heads\//, '');
    for (const issue of repo.issues.values())
      if (issue.pull && issue.state === 'open' && issue.pull.headRef === branch) {
        issue.state = 'closed';
        issue.closedAt = ctx.state.timestamp();
        emitIssueEvent(ctx.state, repo, issue, 'closed', actor);
      }
    await refreshPulls(ctx.state, repo, actor);
    return { status: 204 };
  });
}
