import type { Octokit } from '@octokit/rest';
import { toDeploymentStatus, toIssue } from './map.js';
import type { CallOptions, DeploymentStatusInfo, IssueInfo, RepoRef } from './types.js';

/** One GitHub Actions workflow run, as the workflow deployer follows it. */
export interface WorkflowRunInfo {
  readonly id: number;
  readonly name: string | null;
  /** The run's title (`run-name`), where a dispatch can put a token to find its run again. */
  readonly displayTitle: string | null;
  readonly headSha: string;
  readonly event: string;
  readonly status: string | null;
  readonly conclusion: string | null;
  readonly htmlUrl: string;
  readonly createdAt: string;
}

/** The GitHub operations of the deploy stage besides creating deployments (see `GitHubHost`). */
export interface DeploymentOps {
  /** Statuses of one deployment, newest first (all pages). */
  listDeploymentStatuses(
    repo: RepoRef,
    deploymentId: number,
    options?: CallOptions,
  ): Promise<DeploymentStatusInfo[]>;
  /** `workflow_dispatch` of `.github/workflows/<file>` on `ref` with string `inputs`. */
  dispatchWorkflow(
    repo: RepoRef,
    file: string,
    ref: string,
    inputs: Readonly<Record<string, string>>,
    options?: CallOptions,
  ): Promise<void>;
  /** Runs of one workflow, newest first (first page of 50), optionally from one event. */
  listWorkflowRuns(
    repo: RepoRef,
    file: string,
    filter?: { readonly event?: string; readonly headSha?: string },
    options?: CallOptions,
  ): Promise<WorkflowRunInfo[]>;
  getWorkflowRun(repo: RepoRef, runId: number, options?: CallOptions): Promise<WorkflowRunInfo>;
  /** Issues (not pull requests) with every one of `labels`, open and closed, newest first (first 100). */
  listIssuesWithLabels(repo: RepoRef, labels: readonly string[], options?: CallOptions): Promise<IssueInfo[]>;
  createIssue(
    repo: RepoRef,
    input: { readonly title: string; readonly body: string; readonly labels?: readonly string[] },
    options?: CallOptions,
  ): Promise<IssueInfo>;
}

interface RunData {
  id: number;
  name?: string | null;
  display_title?: string | null;
  head_sha: string;
  event: string;
  status: string | null;
  conclusion: string | null;
  html_url: string;
  created_at: string;
}

const toRun = (d: RunData): WorkflowRunInfo => ({
  id: d.id,
  name: d.name ?? null,
  displayTitle: d.display_title ?? null,
  headSha: d.head_sha,
  event: d.event,
  status: d.status,
  conclusion: d.conclusion,
  htmlUrl: d.html_url,
  createdAt: d.created_at,
});

export function deploymentOps(octokit: Octokit): DeploymentOps {
  return {
    async listDeploymentStatuses({ owner, repo }, deploymentId, o) {
      const list = [];
      for (let page = 1; ; page++) {
        const { data } = await octokit.rest.repos.listDeploymentStatuses({
          owner,
          repo,
          deployment_id: deploymentId,
          per_page: 100,
          page,
          request: { signal: o?.signal },
        });
        list.push(...data);
        if (data.length < 100) break;
      }
      return list.map(toDeploymentStatus);
    },

    async dispatchWorkflow({ owner, repo }, file, ref, inputs, o) {
      await octokit.rest.actions.createWorkflowDispatch({
        owner,
        repo,
        workflow_id: file,
        ref,
        inputs: { ...inputs },
        request: { signal: o?.signal },
      });
    },

    async listWorkflowRuns({ owner, repo }, file, filter = {}, o) {
      const { data } = await octokit.rest.actions.listWorkflowRuns({
        owner,
        repo,
        workflow_id: file,
        per_page: 50,
        ...(filter.event ? { event: filter.event } : {}),
        ...(filter.headSha ? { head_sha: filter.headSha } : {}),
        request: { signal: o?.signal },
      });
      return data.workflow_runs.map(toRun);
    },

    async getWorkflowRun({ owner, repo }, runId, o) {
      const { data } = await octokit.rest.actions.getWorkflowRun({
        owner,
        repo,
        run_id: runId,
        request: { signal: o?.signal },
      });
      return toRun(data);
    },

    async listIssuesWithLabels({ owner, repo }, labels, o) {
      const { data } = await octokit.rest.issues.listForRepo({
        owner,
        repo,
        labels: labels.join(','),
        state: 'all',
        per_page: 100,
        request: { signal: o?.signal },
      });
      return data.map(toIssue).filter((i) => !i.isPullRequest);
    },

    async createIssue({ owner, repo }, input, o) {
      const { data } = await octokit.rest.issues.create({
        owner,
        repo,
        title: input.title,
        body: input.body,
        labels: [...(input.labels ?? [])],
        request: { signal: o?.signal },
      });
      return toIssue(data);
    },
  };
}
