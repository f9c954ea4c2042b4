/** The GitHub port: everything droidworks does on GitHub, in its own small types. */
import type { MaintenanceOps } from './maintenance-ops.js';

import type { DeploymentOps } from './deployment-ops.js';

/** Per-call options; every call also has the host's default timeout. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface IssueRef extends RepoRef {
  readonly issueNumber: number;
}

export interface Account {
  readonly login: string;
  /** `User`, `Bot` or `Organization` */
  readonly type: string;
}

export interface RepoInfo {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly private: boolean;
  readonly htmlUrl: string;
  readonly cloneUrl: string;
}

/** GitHub's collaborator role (`role_name`), or `none`. */
export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface IssueInfo {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly state: 'open' | 'closed';
  readonly labels: string[];
  readonly author: Account;
  readonly isPullRequest: boolean;
  readonly htmlUrl: string;
}

/** A merged pull request, as `droidworks eval mine` reads the history. */
export interface MergedPullInfo {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly mergedAt: string;
  readonly mergeCommitSha: string;
  readonly baseRef: string;
}

export interface CommentInfo {
  readonly id: number;
  readonly body: string;
  readonly author: Account;
  readonly htmlUrl: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';

export interface PullRequestInfo {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly state: 'open' | 'closed';
  readonly draft: boolean;
  readonly merged: boolean;
  readonly headRef: string;
  readonly headSha: string;
  readonly baseRef: string;
  readonly htmlUrl: string;
  readonly author: Account;
}

export interface PullRequestInput {
  /** Branch in the same repository. */
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
  /** @defaultValue false */
  readonly draft?: boolean;
}

export type CheckConclusion =
  'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

export interface CheckRunInput {
  readonly name?: string;
  readonly status?: 'queued' | 'in_progress' | 'completed';
  /** Setting it completes the run. */
  readonly conclusion?: CheckConclusion;
  readonly detailsUrl?: string;
  readonly externalId?: string;
  readonly output?: { readonly title: string; readonly summary: string; readonly text?: string };
}

export interface CheckRunInfo {
  readonly id: number;
  readonly name: string;
  readonly headSha: string;
  readonly status: string;
  readonly conclusion: string | null;
  readonly detailsUrl: string | null;
  readonly htmlUrl: string | null;
}

export interface CommitStatusInfo {
  readonly context: string;
  readonly state: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
}

/** Commit statuses and check runs of one commit, with one overall verdict. */
export interface CommitChecks {
  readonly sha: string;
  /** `none` when the commit has neither statuses nor check runs. */
  readonly state: 'success' | 'failure' | 'pending' | 'none';
  readonly statuses: CommitStatusInfo[];
  readonly checkRuns: CheckRunInfo[];
}

export interface DeploymentInput {
  /** Branch, tag or SHA. */
  readonly ref: string;
  readonly environment: string;
  /** @defaultValue `deploy` */
  readonly task?: string;
  /** Stored with the deployment (droidworks puts its run id here, the idempotency key). */
  readonly payload?: Record<string, unknown>;
  readonly description?: string;
  /** Status contexts that must be green; undefined = GitHub's default (all), `[]` = none. */
  readonly requiredContexts?: readonly string[];
  /** @defaultValue false (GitHub's default true merges the default branch into `ref`) */
  readonly autoMerge?: boolean;
  readonly transient?: boolean;
  readonly production?: boolean;
}

export interface DeploymentInfo {
  readonly id: number;
  readonly sha: string;
  readonly ref: string;
  readonly task: string;
  readonly environment: string;
  readonly payload: unknown;
  readonly description: string | null;
  readonly createdAt: string;
  readonly creator: string | null;
}

export type DeploymentState =
  'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

export interface DeploymentStatusInput {
  readonly state: DeploymentState;
  readonly description?: string;
  readonly environmentUrl?: string;
  readonly logUrl?: string;
  /** @defaultValue true: a success marks earlier deployments of the environment inactive */
  readonly autoInactive?: boolean;
}

export interface DeploymentStatusInfo {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  readonly environmentUrl: string;
  readonly logUrl: string;
  readonly createdAt: string;
}

/** Credentials for git over HTTPS on the host: `https://x-access-token:<token>@host/owner/repo.git`. */
export interface GitCredentials {
  readonly username: 'x-access-token';
  readonly token: string;
  /** Installation tokens expire (about an hour); personal tokens have no known expiry. */
  readonly expiresAt: Date | undefined;
}

export interface HookDeliveryInfo {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string | null;
  readonly statusCode: number;
  readonly deliveredAt: string;
  readonly redelivery: boolean;
}

/**
 * Everything droidworks does on GitHub. One implementation (`createGitHubHost`, Octokit);
 * tests point it at the forge. Every call retries transient failures and has a timeout.
 */
export interface GitHubHost extends DeploymentOps, MaintenanceOps {
  getRepo(repo: RepoRef, options?: CallOptions): Promise<RepoInfo>;
  /** The user's role on the repository; cached for a minute. */
  getPermission(repo: RepoRef, login: string, options?: CallOptions): Promise<RepoPermission>;
  getIssue(issue: IssueRef, options?: CallOptions): Promise<IssueInfo>;
  /** Every comment, oldest first (all pages). */
  listComments(issue: IssueRef, options?: CallOptions): Promise<CommentInfo[]>;
  createComment(issue: IssueRef, body: string, options?: CallOptions): Promise<CommentInfo>;
  updateComment(repo: RepoRef, commentId: number, body: string, options?: CallOptions): Promise<CommentInfo>;
  /** The first comment by droidworks itself whose body contains `marker`, or null. */
  findCommentByMarker(issue: IssueRef, marker: string, options?: CallOptions): Promise<CommentInfo | null>;
  /** Edits the marked comment, or creates it (the body must contain the marker). */
  upsertComment(
    issue: IssueRef,
    marker: string,
    body: string,
    options?: CallOptions,
  ): Promise<{ comment: CommentInfo; created: boolean }>;
  addReaction(
    repo: RepoRef,
    target: { readonly commentId: number } | { readonly issueNumber: number },
    content: ReactionContent,
    options?: CallOptions,
  ): Promise<void>;
  addLabels(issue: IssueRef, labels: readonly string[], options?: CallOptions): Promise<void>;
  /** False when the label was not on the issue. */
  removeLabel(issue: IssueRef, label: string, options?: CallOptions): Promise<boolean>;
  /** A text file on the default branch (e.g. `.droidworks.yml`), with the commit it was read at; null if absent. */
  getFileAtDefaultBranch(
    repo: RepoRef,
    path: string,
    options?: CallOptions,
  ): Promise<{ content: string; sha: string; commitSha: string } | null>;
  getDefaultBranchSha(repo: RepoRef, options?: CallOptions): Promise<{ branch: string; sha: string }>;
  /** A text file at a commit or branch; null if absent. */
  getFileAt(
    repo: RepoRef,
    path: string,
    ref: string,
    options?: CallOptions,
  ): Promise<{ content: string; sha: string } | null>;
  /** Files directly in a folder at a commit or branch; empty if the folder is absent. */
  listDirectory(
    repo: RepoRef,
    path: string,
    ref: string,
    options?: CallOptions,
  ): Promise<Array<{ name: string; path: string; type: 'file' | 'dir' }>>;
  getPullRequest(repo: RepoRef, number: number, options?: CallOptions): Promise<PullRequestInfo>;
  /** The pull request from `head` (a branch of the same repository), newest first; open ones only by default. */
  findPullRequestByHead(
    repo: RepoRef,
    head: string,
    options?: CallOptions & { readonly state?: 'open' | 'closed' | 'all' },
  ): Promise<PullRequestInfo | null>;
  createPullRequest(repo: RepoRef, input: PullRequestInput, options?: CallOptions): Promise<PullRequestInfo>;
  updatePullRequest(
    repo: RepoRef,
    number: number,
    patch: {
      readonly title?: string;
      readonly body?: string;
      readonly state?: 'open' | 'closed';
      readonly base?: string;
    },
    options?: CallOptions,
  ): Promise<PullRequestInfo>;
  /** Updates the open pull request for `input.head`, or opens one: never two for one branch. */
  upsertPullRequest(
    repo: RepoRef,
    input: PullRequestInput,
    options?: CallOptions,
  ): Promise<{ pullRequest: PullRequestInfo; created: boolean }>;
  createCheckRun(
    repo: RepoRef,
    input: CheckRunInput & { readonly name: string; readonly headSha: string },
    options?: CallOptions,
  ): Promise<CheckRunInfo>;
  updateCheckRun(
    repo: RepoRef,
    checkRunId: number,
    input: CheckRunInput,
    options?: CallOptions,
  ): Promise<CheckRunInfo>;
  getCombinedStatusAndChecks(repo: RepoRef, ref: string, options?: CallOptions): Promise<CommitChecks>;
  createDeployment(repo: RepoRef, input: DeploymentInput, options?: CallOptions): Promise<DeploymentInfo>;
  createDeploymentStatus(
    repo: RepoRef,
    deploymentId: number,
    input: DeploymentStatusInput,
    options?: CallOptions,
  ): Promise<DeploymentStatusInfo>;
  listDeployments(
    repo: RepoRef,
    filter?: {
      readonly environment?: string;
      readonly sha?: string;
      readonly ref?: string;
      readonly task?: string;
    },
    options?: CallOptions,
  ): Promise<DeploymentInfo[]>;
  /** Credentials for clone/push on the host (an installation token for App auth). Never pass into a sandbox. */
  getGitToken(repo: RepoRef, options?: CallOptions): Promise<GitCredentials>;
  /** `GET /user` login for a token; `<slug>[bot]` for an App. Cached. */
  getAuthenticatedLogin(options?: CallOptions): Promise<string>;
  /** Pull requests merged since `since`, at most `limit`, most recently updated first. */
  listMergedPulls(
    repo: RepoRef,
    filter: { readonly since: Date; readonly limit: number },
    options?: CallOptions,
  ): Promise<MergedPullInfo[]>;
  /** App only: recent deliveries whose latest attempt failed (one entry per GUID), newest first. */
  listFailedHookDeliveries(
    options?: CallOptions & { readonly since?: Date; readonly maxPages?: number },
  ): Promise<HookDeliveryInfo[]>;
  /** App only: asks GitHub to send a delivery again. */
  redeliver(deliveryId: number, options?: CallOptions): Promise<void>;
}

/** Whether a role may trigger droidworks: write, maintain or admin. */
export function isWriter(permission: RepoPermission): boolean {
  return permission === 'write' || permission === 'maintain' || permission === 'admin';
}

/** The hidden marker that makes a comment findable again: `<!-- droidworks:<key> -->`. */
export function commentMarker(key: string): string {
  return `<!-- droidworks:${key.replace(/-->/g, '')} -->`;
}
