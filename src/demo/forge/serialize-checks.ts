import {
  APP_PERMISSIONS,
  appJson,
  nodeId,
  repoApiUrl,
  repoHtmlUrl,
  repoJson,
  userJson,
} from './serialize.js';
import type { ForgeState } from './state.js';
import type {
  ForgeCheckRun,
  ForgeDeployment,
  ForgeDeploymentStatus,
  ForgeInstallation,
  ForgeRepo,
  ForgeStatus,
  StatusState,
} from './types.js';

export function checkRunJson(
  state: ForgeState,
  repo: ForgeRepo,
  run: ForgeCheckRun,
): Record<string, unknown> {
  const url = `${repoApiUrl(state, repo)}/check-runs/${run.id}`;
  const pulls = [...repo.issues.values()].filter(
    (i) => i.pull && i.state === 'open' && i.pull.headSha === run.headSha,
  );
  return {
    id: run.id,
    node_id: nodeId('CheckRun', run.id),
    head_sha: run.headSha,
    external_id: run.externalId ?? '',
    url,
    html_url: `${repoHtmlUrl(state, repo)}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: 0,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 1_000_000 },
    app: run.appId !== null && state.app ? appJson(state) : null,
    pull_requests: pulls.map((i) => ({
      url: `${repoApiUrl(state, repo)}/pulls/${i.number}`,
      id: i.pull?.id,
      number: i.number,
      head: {
        ref: i.pull?.headRef,
        sha: i.pull?.headSha,
        repo: { id: repo.id, name: repo.name, url: repoApiUrl(state, repo) },
      },
      base: {
        ref: i.pull?.baseRef,
        sha: i.pull?.baseSha,
        repo: { id: repo.id, name: repo.name, url: repoApiUrl(state, repo) },
      },
    })),
  };
}

export function statusJson(state: ForgeState, repo: ForgeRepo, status: ForgeStatus): Record<string, unknown> {
  return {
    url: `${repoApiUrl(state, repo)}/statuses/${status.sha}`,
    avatar_url: `${state.urls.web}/avatars/u/${status.creator.id}`,
    id: status.id,
    node_id: nodeId('StatusContext', status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    creator: userJson(state, status.creator),
  };
}

/** The newest status per context, newest first, as GitHub's combined status lists them. */
export function latestStatuses(repo: ForgeRepo, sha: string): ForgeStatus[] {
  const seen = new Map<string, ForgeStatus>();
  for (const status of [...repo.statuses].reverse()) {
    if (status.sha === sha && !seen.has(status.context)) seen.set(status.context, status);
  }
  return [...seen.values()];
}

/** GitHub's rule: failure if any error/failure, pending if any pending or none at all, else success. */
export function combinedState(statuses: readonly ForgeStatus[]): StatusState {
  if (statuses.some((s) => s.state === 'error' || s.state === 'failure')) return 'failure';
  if (statuses.length === 0 || statuses.some((s) => s.state === 'pending')) return 'pending';
  return 'success';
}

export function combinedStatusJson(state: ForgeState, repo: ForgeRepo, sha: string): Record<string, unknown> {
  const statuses = latestStatuses(repo, sha);
  return {
    state: combinedState(statuses),
    statuses: statuses.map((s) => statusJson(state, repo, s)),
    sha,
    total_count: statuses.length,
    repository: repoJson(state, repo),
    commit_url: `${repoApiUrl(state, repo)}/commits/${sha}`,
    url: `${repoApiUrl(state, repo)}/commits/${sha}/status`,
  };
}

export function deploymentJson(
  state: ForgeState,
  repo: ForgeRepo,
  d: ForgeDeployment,
): Record<string, unknown> {
  const url = `${repoApiUrl(state, repo)}/deployments/${d.id}`;
  return {
    url,
    id: d.id,
    node_id: nodeId('Deployment', d.id),
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: userJson(state, d.creator),
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    statuses_url: `${url}/statuses`,
    repository_url: repoApiUrl(state, repo),
    transient_environment: d.transient,
    production_environment: d.production,
    performed_via_github_app: null,
  };
}

export function deploymentStatusJson(
  state: ForgeState,
  repo: ForgeRepo,
  d: ForgeDeployment,
  s: ForgeDeploymentStatus,
): Record<string, unknown> {
  const deploymentUrl = `${repoApiUrl(state, repo)}/deployments/${d.id}`;
  return {
    url: `${deploymentUrl}/statuses/${s.id}`,
    id: s.id,
    node_id: nodeId('DeploymentStatus', s.id),
    state: s.state,
    creator: userJson(state, s.creator),
    description: s.description,
    environment: s.environment,
    target_url: s.logUrl,
    log_url: s.logUrl,
    environment_url: s.environmentUrl,
    created_at: s.createdAt,
    updated_at: s.createdAt,
    deployment_url: deploymentUrl,
    repository_url: repoApiUrl(state, repo),
  };
}

export function installationJson(
  state: ForgeState,
  installation: ForgeInstallation,
): Record<string, unknown> {
  const api = `${state.urls.api}/app/installations/${installation.id}`;
  return {
    id: installation.id,
    account: userJson(state, installation.account),
    repository_selection: 'all',
    access_tokens_url: `${api}/access_tokens`,
    repositories_url: `${state.urls.api}/installation/repositories`,
    html_url: `${state.urls.web}/settings/installations/${installation.id}`,
    app_id: state.app?.id,
    app_slug: state.app?.slug,
    target_id: installation.account.id,
    target_type: installation.account.type === 'Organization' ? 'Organization' : 'User',
    permissions: APP_PERMISSIONS,
    events: appJson(state).events,
    created_at: installation.createdAt,
    updated_at: installation.createdAt,
    single_file_name: null,
    suspended_at: null,
    suspended_by: null,
  };
}
