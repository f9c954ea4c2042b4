import type { Octokit } from '@octokit/rest';
import { GitHubApiError } from './errors.js';
import { toCheckRun, toDeployment, toDeploymentStatus, toPull } from './map.js';
import type { CheckConclusion, CheckRunInput, CommitChecks, GitHubHost } from './types.js';

type PullCheckOps = Pick<
  GitHubHost,
  | 'getPullRequest'
  | 'findPullRequestByHead'
  | 'createPullRequest'
  | 'updatePullRequest'
  | 'upsertPullRequest'
  | 'createCheckRun'
  | 'updateCheckRun'
  | 'getCombinedStatusAndChecks'
  | 'createDeployment'
  | 'createDeploymentStatus'
  | 'listDeployments'
>;

const FAILED = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure']);

function checkRunParams(input: CheckRunInput): Record<string, unknown> {
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.status !== undefined ? { status: input.status } : {}),
    ...(input.conclusion !== undefined ? { conclusion: input.conclusion, status: 'completed' } : {}),
    ...(input.detailsUrl !== undefined ? { details_url: input.detailsUrl } : {}),
    ...(input.externalId !== undefined ? { external_id: input.externalId } : {}),
    ...(input.output !== undefined ? { output: input.output } : {}),
  };
}

export interface PullCheckOpsOptions {
  /**
   * GitHub lets only Apps write check runs (403 "You must authenticate via a GitHub App" for
   * tokens): with token auth a completed check run is published as a commit status with the
   * same name as its context instead. @defaultValue false
   */
  readonly checksAsStatuses?: boolean;
}

const STATUS_STATE: Record<CheckConclusion, 'success' | 'failure' | 'error'> = {
  success: 'success',
  neutral: 'success',
  skipped: 'success',
  failure: 'failure',
  timed_out: 'error',
  cancelled: 'error',
  action_required: 'failure',
};

/** Pull requests, check runs, commit statuses and deployments. */
export function pullCheckOps(octokit: Octokit, settings: PullCheckOpsOptions = {}): PullCheckOps {
  const ops: PullCheckOps = {
    async getPullRequest({ owner, repo }, number, options) {
      const { data } = await octokit.rest.pulls.get({
        owner,
        repo,
        pull_number: number,
        request: { signal: options?.signal },
      });
      return toPull(data);
    },

    async findPullRequestByHead({ owner, repo }, head, options) {
      const { data } = await octokit.rest.pulls.list({
        owner,
        repo,
        head: `${owner}:${head}`,
        state: options?.state ?? 'open',
        per_page: 10,
        request: { signal: options?.signal },
      });
      const first = data[0];
      return first ? toPull(first) : null;
    },

    async createPullRequest({ owner, repo }, input, options) {
      const { data } = await octokit.rest.pulls.create({
        owner,
        repo,
        head: input.head,
        base: input.base,
        title: input.title,
        body: input.body,
        draft: input.draft ?? false,
        request: { signal: options?.signal },
      });
      return toPull(data);
    },

    async updatePullRequest({ owner, repo }, number, patch, options) {
      const { data } = await octokit.rest.pulls.update({
        owner,
        repo,
        pull_number: number,
        ...patch,
        request: { signal: options?.signal },
      });
      return toPull(data);
    },

    async upsertPullRequest(repoRef, input, options) {
      const existing = await ops.findPullRequestByHead(repoRef, input.head, options);
      if (existing) {
        const same =
          existing.title === input.title && existing.body === input.body && existing.baseRef === input.base;
        const pullRequest = same
          ? existing
          : await ops.updatePullRequest(
              repoRef,
              existing.number,
              { title: input.title, body: input.body, base: input.base },
              options,
            );
        return { pullRequest, created: false };
      }
      try {
        return { pullRequest: await ops.createPullRequest(repoRef, input, options), created: true };
      } catch (err) {
        // Lost a race with another worker: GitHub refuses the duplicate with 422; return theirs.
        if (!(err instanceof GitHubApiError) || err.status !== 422) throw err;
        const raced = await ops.findPullRequestByHead(repoRef, input.head, options);
        if (!raced) throw err;
        return { pullRequest: raced, created: false };
      }
    },

    async createCheckRun({ owner, repo }, input, callOptions) {
      if (settings.checksAsStatuses) {
        const state = input.conclusion ? STATUS_STATE[input.conclusion] : 'pending';
        const { data } = await octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
          owner,
          repo,
          sha: input.headSha,
          state,
          context: input.name,
          description: (input.output?.title ?? input.name).slice(0, 140),
          ...(input.detailsUrl ? { target_url: input.detailsUrl } : {}),
          request: { signal: callOptions?.signal },
        });
        return {
          id: Number(data.id),
          name: input.name,
          headSha: input.headSha,
          status: input.conclusion ? 'completed' : 'in_progress',
          conclusion: input.conclusion ?? null,
          detailsUrl: input.detailsUrl ?? null,
          htmlUrl: null,
        };
      }
      const { data } = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
        owner,
        repo,
        head_sha: input.headSha,
        ...checkRunParams(input),
        name: input.name,
        request: { signal: callOptions?.signal },
      });
      return toCheckRun(data);
    },

    async updateCheckRun({ owner, repo }, checkRunId, input, options) {
      const { data } = await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
        owner,
        repo,
        check_run_id: checkRunId,
        ...checkRunParams(input),
        request: { signal: options?.signal },
      });
      return toCheckRun(data);
    },

    async getCombinedStatusAndChecks({ owner, repo }, ref, options): Promise<CommitChecks> {
      const request = { signal: options?.signal };
      const combined = await octokit.rest.repos.getCombinedStatusForRef({
        owner,
        repo,
        ref,
        per_page: 100,
        request,
      });
      const runs = await octokit.paginate(octokit.rest.checks.listForRef, {
        owner,
        repo,
        ref,
        per_page: 100,
        request,
      });
      const statuses = combined.data.statuses.map((s) => ({
        context: s.context,
        state: s.state,
        description: s.description,
        targetUrl: s.target_url,
      }));
      const checkRuns = runs.map(toCheckRun);
      const states = [
        ...statuses.map((s) => (s.state === 'error' || s.state === 'failure' ? 'failure' : s.state)),
        ...checkRuns.map((c) =>
          c.status !== 'completed' ? 'pending' : FAILED.has(c.conclusion ?? '') ? 'failure' : 'success',
        ),
      ];
      const state =
        states.length === 0
          ? 'none'
          : states.includes('failure')
            ? 'failure'
            : states.includes('pending')
              ? 'pending'
              : 'success';
      return { sha: combined.data.sha, state, statuses, checkRuns };
    },

    async createDeployment({ owner, repo }, input, options) {
      const response = await octokit.rest.repos.createDeployment({
        owner,
        repo,
        ref: input.ref,
        environment: input.environment,
        task: input.task ?? 'deploy',
        payload: input.payload ?? {},
        description: input.description,
        auto_merge: input.autoMerge ?? false,
        ...(input.requiredContexts !== undefined ? { required_contexts: [...input.requiredContexts] } : {}),
        transient_environment: input.transient,
        production_environment: input.production,
        request: { signal: options?.signal },
      });
      // 202 means GitHub merged the default branch in first ("auto merge"); droidworks turns that off.
      if (response.status !== 201 || !('id' in response.data))
        throw new GitHubApiError(`GitHub did not create the deployment of ${input.ref}`, {
          status: response.status,
          method: 'POST',
          route: '/repos/{owner}/{repo}/deployments',
        });
      return toDeployment(response.data);
    },

    async createDeploymentStatus({ owner, repo }, deploymentId, input, options) {
      const { data } = await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: deploymentId,
        state: input.state,
        description: input.description,
        environment_url: input.environmentUrl,
        log_url: input.logUrl,
        auto_inactive: input.autoInactive,
        request: { signal: options?.signal },
      });
      return toDeploymentStatus(data);
    },

    async listDeployments({ owner, repo }, filter = {}, options) {
      const list = await octokit.paginate(octokit.rest.repos.listDeployments, {
        owner,
        repo,
        ...filter,
        per_page: 100,
        request: { signal: options?.signal },
      });
      return list.map(toDeployment);
    },
  };
  return ops;
}
