import { HttpError } from './http.js';
import {
  checkRunJson,
  deploymentJson,
  deploymentStatusJson,
  latestStatuses,
  statusJson,
} from './serialize-checks.js';
import { repoJson } from './serialize.js';
import type { ForgeState } from './state.js';
import type {
  Actor,
  CheckConclusion,
  CheckStatus,
  DeploymentState,
  ForgeCheckRun,
  ForgeDeployment,
  ForgeDeploymentStatus,
  ForgeRepo,
  ForgeStatus,
  StatusState,
} from './types.js';

export interface CheckRunInput {
  readonly name?: string;
  readonly status?: CheckStatus;
  readonly conclusion?: CheckConclusion;
  readonly detailsUrl?: string;
  readonly externalId?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly output?: { title?: string; summary?: string; text?: string };
}

function emitCheckRun(
  state: ForgeState,
  repo: ForgeRepo,
  run: ForgeCheckRun,
  action: string,
  actor: Actor,
): void {
  state.emit({
    name: 'check_run',
    action,
    repo,
    sender: actor.user,
    payload: { check_run: checkRunJson(state, repo, run) },
  });
}

function applyCheckRun(state: ForgeState, run: ForgeCheckRun, input: CheckRunInput): void {
  if (input.name !== undefined) run.name = input.name;
  if (input.detailsUrl !== undefined) run.detailsUrl = input.detailsUrl;
  if (input.externalId !== undefined) run.externalId = input.externalId;
  if (input.startedAt !== undefined) run.startedAt = input.startedAt;
  if (input.output) run.output = { ...run.output, ...input.output };
  if (input.conclusion !== undefined) {
    run.conclusion = input.conclusion;
    run.status = 'completed';
  } else if (input.status !== undefined) {
    run.status = input.status;
  }
  if (run.status === 'completed') {
    if (!run.conclusion) throw new HttpError(422, 'Conclusion required if status is completed');
    run.completedAt = input.completedAt ?? run.completedAt ?? state.timestamp();
  }
}

export function createCheckRun(
  state: ForgeState,
  repo: ForgeRepo,
  actor: Actor,
  headSha: string,
  input: CheckRunInput & { name: string },
): ForgeCheckRun {
  const run: ForgeCheckRun = {
    id: state.nextId(),
    name: input.name,
    headSha,
    status: 'queued',
    conclusion: null,
    detailsUrl: null,
    externalId: null,
    startedAt: state.timestamp(),
    completedAt: null,
    output: { title: null, summary: null, text: null },
    appId: actor.installation && state.app ? state.app.id : null,
  };
  applyCheckRun(state, run, input);
  repo.checkRuns.push(run);
  emitCheckRun(state, repo, run, 'created', actor);
  if (run.status === 'completed') emitCheckRun(state, repo, run, 'completed', actor);
  return run;
}

export function updateCheckRun(
  state: ForgeState,
  repo: ForgeRepo,
  run: ForgeCheckRun,
  actor: Actor,
  input: CheckRunInput,
): ForgeCheckRun {
  const wasCompleted = run.status === 'completed';
  applyCheckRun(state, run, input);
  if (run.status === 'completed' && !wasCompleted) emitCheckRun(state, repo, run, 'completed', actor);
  return run;
}

export function createStatus(
  state: ForgeState,
  repo: ForgeRepo,
  actor: Actor,
  sha: string,
  input: { state: StatusState; context?: string; description?: string | null; targetUrl?: string | null },
): ForgeStatus {
  const status: ForgeStatus = {
    id: state.nextId(),
    sha,
    state: input.state,
    context: input.context ?? 'default',
    description: input.description ?? null,
    targetUrl: input.targetUrl ?? null,
    creator: actor.user,
    createdAt: state.timestamp(),
  };
  repo.statuses.push(status);
  state.emit({
    name: 'status',
    repo,
    sender: actor.user,
    payload: {
      ...statusJson(state, repo, status),
      sha,
      name: `${repo.owner.login}/${repo.name}`,
      commit: { sha },
      branches: [],
    },
  });
  return status;
}

/**
 * Creates a deployment. As on GitHub, `requiredContexts` left undefined means every status
 * context on the commit must be `success` (409 otherwise); `[]` skips the check.
 */
export function createDeployment(
  state: ForgeState,
  repo: ForgeRepo,
  actor: Actor,
  input: {
    ref: string;
    sha: string;
    task?: string;
    payload?: unknown;
    environment?: string;
    description?: string | null;
    requiredContexts?: readonly string[];
    transient?: boolean;
    production?: boolean;
  },
): ForgeDeployment {
  const latest = latestStatuses(repo, input.sha);
  const required = input.requiredContexts ?? latest.map((s) => s.context);
  const failing = required.filter((c) => latest.find((s) => s.context === c)?.state !== 'success');
  if (failing.length > 0) {
    throw new HttpError(409, `Conflict: Commit status checks failed for ${input.ref}.`, {
      errors: [
        {
          contexts: failing.map((context) => ({
            context,
            state: latest.find((s) => s.context === context)?.state ?? 'missing',
          })),
          resource: 'Deployment',
          field: 'required_contexts',
          code: 'invalid',
        },
      ],
    });
  }
  const environment = input.environment ?? 'production';
  const now = state.timestamp();
  const deployment: ForgeDeployment = {
    id: state.nextId(),
    sha: input.sha,
    ref: input.ref,
    task: input.task ?? 'deploy',
    payload: input.payload ?? {},
    environment,
    description: input.description ?? null,
    transient: input.transient ?? false,
    production: input.production ?? environment === 'production',
    creator: actor.user,
    createdAt: now,
    updatedAt: now,
    statuses: [],
  };
  repo.deployments.push(deployment);
  state.emit({
    name: 'deployment',
    action: 'created',
    repo,
    sender: actor.user,
    payload: { deployment: deploymentJson(state, repo, deployment) },
  });
  return deployment;
}

export function createDeploymentStatus(
  state: ForgeState,
  repo: ForgeRepo,
  deployment: ForgeDeployment,
  actor: Actor,
  input: {
    state: DeploymentState;
    description?: string;
    environmentUrl?: string;
    logUrl?: string;
    environment?: string;
    autoInactive?: boolean;
  },
): ForgeDeploymentStatus {
  const status: ForgeDeploymentStatus = {
    id: state.nextId(),
    state: input.state,
    description: input.description ?? '',
    environment: input.environment ?? deployment.environment,
    environmentUrl: input.environmentUrl ?? '',
    logUrl: input.logUrl ?? '',
    creator: actor.user,
    createdAt: state.timestamp(),
  };
  deployment.statuses.unshift(status);
  deployment.updatedAt = status.createdAt;
  if (input.state === 'success' && input.autoInactive !== false) {
    for (const other of repo.deployments) {
      const latest = other.statuses[0];
      if (
        other !== deployment &&
        other.environment === deployment.environment &&
        latest?.state === 'success' &&
        !other.transient
      ) {
        other.statuses.unshift({
          ...latest,
          id: state.nextId(),
          state: 'inactive',
          createdAt: status.createdAt,
        });
      }
    }
  }
  state.emit({
    name: 'deployment_status',
    action: 'created',
    repo,
    sender: actor.user,
    payload: {
      deployment_status: deploymentStatusJson(state, repo, deployment, status),
      deployment: deploymentJson(state, repo, deployment),
      repository: repoJson(state, repo),
    },
  });
  return status;
}
