import type { Octokit } from '@octokit/rest';
import { GitHubApiError } from './errors.js';
import { toIssue, toPull } from './map.js';
import type { CallOptions, IssueInfo, IssueRef, PullRequestInfo, RepoRef } from './types.js';

/** A pull request with the time of its last activity (for stale-branch decisions). */
export interface PullRequestActivity extends PullRequestInfo {
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What scheduled maintenance does on GitHub beyond a run's own operations. */
export interface MaintenanceOps {
  /** The oldest issue (open or closed, not a PR) carrying `label`, or null: the dashboard issue. */
  findIssueByLabel(repo: RepoRef, label: string, options?: CallOptions): Promise<IssueInfo | null>;
  // createIssue: the deploy stage's (`deployment-ops.ts`), shared.
  updateIssue(
    issue: IssueRef,
    patch: { readonly title?: string; readonly body?: string; readonly state?: 'open' | 'closed' },
    options?: CallOptions,
  ): Promise<IssueInfo>;
  /** Every pull request in `state` (all pages), newest first, with its activity times. */
  listPullRequests(
    repo: RepoRef,
    options?: CallOptions & { readonly state?: 'open' | 'closed' | 'all' },
  ): Promise<PullRequestActivity[]>;
  /** Branch names starting with `prefix` (e.g. `droid/`). */
  listBranches(repo: RepoRef, prefix: string, options?: CallOptions): Promise<string[]>;
  /** False when the branch did not exist. */
  deleteBranch(repo: RepoRef, branch: string, options?: CallOptions): Promise<boolean>;
  /** App only: every repository of every installation (`owner`, `repo`). */
  listInstallationRepos(options?: CallOptions): Promise<RepoRef[]>;
}

/** The Octokit implementation of {@link MaintenanceOps}. */
export function maintenanceOps(octokit: Octokit): MaintenanceOps {
  return {
    async findIssueByLabel({ owner, repo }, label, options) {
      const list = await octokit.paginate(octokit.rest.issues.listForRepo, {
        owner,
        repo,
        labels: label,
        state: 'all',
        direction: 'asc',
        per_page: 100,
        request: { signal: options?.signal },
      });
      const first = list.map((d) => toIssue(d)).find((i) => !i.isPullRequest);
      return first ?? null;
    },
    async updateIssue({ owner, repo, issueNumber }, patch, options) {
      const { data } = await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: issueNumber,
        ...patch,
        request: { signal: options?.signal },
      });
      return toIssue(data);
    },
    async listPullRequests({ owner, repo }, options) {
      const list = await octokit.paginate(octokit.rest.pulls.list, {
        owner,
        repo,
        state: options?.state ?? 'open',
        per_page: 100,
        request: { signal: options?.signal },
      });
      return list.map((d) => ({ ...toPull(d), createdAt: d.created_at, updatedAt: d.updated_at }));
    },
    async listBranches({ owner, repo }, prefix, options) {
      const { data } = await octokit.rest.git.listMatchingRefs({
        owner,
        repo,
        ref: `heads/${prefix}`,
        request: { signal: options?.signal },
      });
      return data.map((r) => r.ref.replace(/^refs\/heads\//, ''));
    },
    async listInstallationRepos(options) {
      const request = { signal: options?.signal };
      const installations = await octokit.paginate(octokit.rest.apps.listInstallations, {
        per_page: 100,
        request,
      });
      const out: RepoRef[] = [];
      for (const installation of installations) {
        const { data: minted } = await octokit.rest.apps.createInstallationAccessToken({
          installation_id: installation.id,
          request,
        });
        const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, {
          per_page: 100,
          headers: { authorization: `token ${minted.token}` },
          request,
        });
        for (const r of repos) out.push({ owner: r.owner.login, repo: r.name });
      }
      return out;
    },
    async deleteBranch({ owner, repo }, branch, options) {
      try {
        await octokit.rest.git.deleteRef({
          owner,
          repo,
          ref: `heads/${branch}`,
          request: { signal: options?.signal },
        });
        return true;
      } catch (err) {
        if (err instanceof GitHubApiError && (err.status === 404 || err.status === 422)) return false;
        throw err;
      }
    },
  };
}
