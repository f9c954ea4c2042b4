import type {
  Account,
  CheckRunInfo,
  CommentInfo,
  DeploymentInfo,
  DeploymentStatusInfo,
  IssueInfo,
  PullRequestInfo,
  RepoInfo,
} from './types.js';

/** Octokit response data → the port's small types. Only fields droidworks reads are mapped. */

type UserData = { login: string; type?: string } | null | undefined;

export const toAccount = (user: UserData): Account => ({
  login: user?.login ?? 'ghost',
  type: user?.type ?? 'User',
});

export function toRepo(d: {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string };
  default_branch: string;
  private: boolean;
  html_url: string;
  clone_url: string;
}): RepoInfo {
  return {
    id: d.id,
    owner: d.owner.login,
    name: d.name,
    fullName: d.full_name,
    defaultBranch: d.default_branch,
    private: d.private,
    htmlUrl: d.html_url,
    cloneUrl: d.clone_url,
  };
}

export function toIssue(d: {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels: Array<string | { name?: string }>;
  user: UserData;
  pull_request?: unknown;
  html_url: string;
}): IssueInfo {
  return {
    number: d.number,
    title: d.title,
    body: d.body ?? '',
    state: d.state === 'closed' ? 'closed' : 'open',
    labels: d.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
    author: toAccount(d.user),
    isPullRequest: d.pull_request !== undefined && d.pull_request !== null,
    htmlUrl: d.html_url,
  };
}

export function toComment(d: {
  id: number;
  body?: string;
  user: UserData;
  html_url: string;
  created_at: string;
  updated_at: string;
}): CommentInfo {
  return {
    id: d.id,
    body: d.body ?? '',
    author: toAccount(d.user),
    htmlUrl: d.html_url,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
  };
}

export function toPull(d: {
  number: number;
  title: string;
  body: string | null;
  state: string;
  draft?: boolean;
  merged_at: string | null;
  merged?: boolean;
  head: { ref: string; sha: string };
  base: { ref: string };
  html_url: string;
  user: UserData;
}): PullRequestInfo {
  return {
    number: d.number,
    title: d.title,
    body: d.body ?? '',
    state: d.state === 'closed' ? 'closed' : 'open',
    draft: d.draft ?? false,
    merged: d.merged ?? d.merged_at !== null,
    headRef: d.head.ref,
    headSha: d.head.sha,
    baseRef: d.base.ref,
    htmlUrl: d.html_url,
    author: toAccount(d.user),
  };
}

export function toCheckRun(d: {
  id: number | bigint;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  html_url: string | null;
}): CheckRunInfo {
  return {
    id: Number(d.id),
    name: d.name,
    headSha: d.head_sha,
    status: d.status,
    conclusion: d.conclusion,
    detailsUrl: d.details_url,
    htmlUrl: d.html_url,
  };
}

export function toDeployment(d: {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  payload: unknown;
  description: string | null;
  created_at: string;
  creator: UserData;
}): DeploymentInfo {
  return {
    id: d.id,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    environment: d.environment,
    payload: d.payload,
    description: d.description,
    createdAt: d.created_at,
    creator: d.creator?.login ?? null,
  };
}

export function toDeploymentStatus(d: {
  id: number;
  state: string;
  description?: string;
  environment_url?: string;
  log_url?: string;
  created_at: string;
}): DeploymentStatusInfo {
  return {
    id: d.id,
    state: d.state,
    description: d.description ?? '',
    environmentUrl: d.environment_url ?? '',
    logUrl: d.log_url ?? '',
    createdAt: d.created_at,
  };
}
