import {
  HttpError,
  listReply,
  notFound,
  numberParam,
  paginate,
  repoParam,
  requireRole,
  stringField,
  validationFailed,
  type RequestContext,
  type Router,
} from './http.js';
import {
  createCheckRun,
  createDeployment,
  createDeploymentStatus,
  createStatus,
  updateCheckRun,
  type CheckRunInput,
} from './check-ops.js';
import { resolveRef } from './rest-repos.js';
import {
  checkRunJson,
  combinedStatusJson,
  deploymentJson,
  deploymentStatusJson,
  statusJson,
} from './serialize-checks.js';
import type {
  Actor,
  CheckConclusion,
  CheckStatus,
  DeploymentState,
  ForgeRepo,
  StatusState,
} from './types.js';

const CHECK_STATUSES: readonly CheckStatus[] = ['queued', 'in_progress', 'completed'];
const CONCLUSIONS: readonly CheckConclusion[] = [
  'success',
  'failure',
  'neutral',
  'cancelled',
  'skipped',
  'timed_out',
  'action_required',
];
const STATUS_STATES: readonly StatusState[] = ['error', 'failure', 'pending', 'success'];
const DEPLOY_STATES: readonly DeploymentState[] = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
];

function oneOf<T extends string>(ctx: RequestContext, field: string, allowed: readonly T[]): T | undefined {
  const value = stringField(ctx, field);
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (!found) throw validationFailed({ resource: 'Request', field, code: 'invalid' });
  return found;
}

/** Check runs are written by GitHub Apps only, as on GitHub (unless the forge relaxes it). */
function requireCheckWriter(ctx: RequestContext, repo: ForgeRepo): Actor {
  const actor = requireRole(ctx, repo, 'write');
  if (!actor.installation && ctx.state.checkRunsRequireApp)
    throw new HttpError(403, 'You must authenticate via a GitHub App.');
  return actor;
}

function checkRunInput(ctx: RequestContext): CheckRunInput {
  const output = ctx.body.output as { title?: unknown; summary?: unknown; text?: unknown } | undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    name: stringField(ctx, 'name'),
    status: oneOf(ctx, 'status', CHECK_STATUSES),
    conclusion: oneOf(ctx, 'conclusion', CONCLUSIONS),
    detailsUrl: stringField(ctx, 'details_url'),
    externalId: stringField(ctx, 'external_id'),
    startedAt: stringField(ctx, 'started_at'),
    completedAt: stringField(ctx, 'completed_at'),
    output: output
      ? { title: str(output.title), summary: str(output.summary), text: str(output.text) }
      : undefined,
  };
}

/** `payload` may be an object or a JSON string. */
function parsePayload(ctx: RequestContext): unknown {
  const payload = ctx.body.payload;
  if (typeof payload !== 'string') return payload;
  try {
    return JSON.parse(payload) as unknown;
  } catch (err) {
    throw validationFailed({
      resource: 'Deployment',
      field: 'payload',
      code: 'invalid',
      message: String(err),
    });
  }
}

export function registerCheckRoutes(router: Router): void {
  router.on('POST', '/repos/:owner/:repo/check-runs', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireCheckWriter(ctx, repo);
    const sha = await resolveRef(ctx, repo, stringField(ctx, 'head_sha', true));
    const run = createCheckRun(ctx.state, repo, actor, sha, {
      ...checkRunInput(ctx),
      name: stringField(ctx, 'name', true),
    });
    return { status: 201, body: checkRunJson(ctx.state, repo, run) };
  });

  const runParam = (ctx: RequestContext, repo: ForgeRepo) => {
    const run = repo.checkRuns.find((r) => r.id === numberParam(ctx, 'id'));
    if (!run) throw notFound();
    return run;
  };

  router.on('GET', '/repos/:owner/:repo/check-runs/:id', (ctx) => {
    const repo = repoParam(ctx);
    return { body: checkRunJson(ctx.state, repo, runParam(ctx, repo)) };
  });

  router.on('PATCH', '/repos/:owner/:repo/check-runs/:id', (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireCheckWriter(ctx, repo);
    const run = updateCheckRun(ctx.state, repo, runParam(ctx, repo), actor, checkRunInput(ctx));
    return { body: checkRunJson(ctx.state, repo, run) };
  });

  router.on('GET', '/repos/:owner/:repo/commits/:ref/check-runs', async (ctx) => {
    const repo = repoParam(ctx);
    const sha = await resolveRef(ctx, repo, ctx.params.ref ?? '');
    const name = ctx.query.get('check_name');
    const status = ctx.query.get('status');
    let runs = repo.checkRuns
      .filter((r) => r.headSha === sha && (!name || r.name === name) && (!status || r.status === status))
      .sort((a, b) => b.id - a.id);
    if (ctx.query.get('filter') !== 'all')
      runs = runs.filter((r, i) => runs.findIndex((o) => o.name === r.name) === i);
    const { page, headers } = paginate(ctx, runs);
    return {
      body: { total_count: runs.length, check_runs: page.map((r) => checkRunJson(ctx.state, repo, r)) },
      headers,
    };
  });

  router.on('POST', '/repos/:owner/:repo/statuses/:sha', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const sha = await resolveRef(ctx, repo, ctx.params.sha ?? '');
    const state = oneOf(ctx, 'state', STATUS_STATES);
    if (!state) throw validationFailed({ resource: 'Status', field: 'state', code: 'missing_field' });
    const status = createStatus(ctx.state, repo, actor, sha, {
      state,
      context: stringField(ctx, 'context'),
      description: stringField(ctx, 'description'),
      targetUrl: stringField(ctx, 'target_url'),
    });
    return { status: 201, body: statusJson(ctx.state, repo, status) };
  });

  router.on('GET', '/repos/:owner/:repo/commits/:ref/status', async (ctx) => {
    const repo = repoParam(ctx);
    return { body: combinedStatusJson(ctx.state, repo, await resolveRef(ctx, repo, ctx.params.ref ?? '')) };
  });

  router.on('GET', '/repos/:owner/:repo/commits/:ref/statuses', async (ctx) => {
    const repo = repoParam(ctx);
    const sha = await resolveRef(ctx, repo, ctx.params.ref ?? '');
    const list = repo.statuses.filter((s) => s.sha === sha).reverse();
    return listReply(ctx, list, (s) => statusJson(ctx.state, repo, s));
  });

  router.on('POST', '/repos/:owner/:repo/deployments', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const ref = stringField(ctx, 'ref', true);
    const contexts = ctx.body.required_contexts;
    if (contexts !== undefined && (!Array.isArray(contexts) || contexts.some((c) => typeof c !== 'string')))
      throw validationFailed({ resource: 'Deployment', field: 'required_contexts', code: 'invalid' });
    const deployment = createDeployment(ctx.state, repo, actor, {
      ref,
      sha: await resolveRef(ctx, repo, ref),
      task: stringField(ctx, 'task'),
      payload: parsePayload(ctx),
      environment: stringField(ctx, 'environment'),
      description: stringField(ctx, 'description'),
      requiredContexts: contexts as string[] | undefined,
      transient: ctx.body.transient_environment === true,
      production:
        typeof ctx.body.production_environment === 'boolean' ? ctx.body.production_environment : undefined,
    });
    return { status: 201, body: deploymentJson(ctx.state, repo, deployment) };
  });

  router.on('GET', '/repos/:owner/:repo/deployments', (ctx) => {
    const repo = repoParam(ctx);
    const q = (name: string) => ctx.query.get(name);
    const list = repo.deployments
      .filter((d) => (!q('sha') || d.sha === q('sha')) && (!q('ref') || d.ref === q('ref')))
      .filter(
        (d) =>
          (!q('task') || d.task === q('task')) && (!q('environment') || d.environment === q('environment')),
      )
      .sort((a, b) => b.id - a.id);
    return listReply(ctx, list, (d) => deploymentJson(ctx.state, repo, d));
  });

  const deploymentParam = (ctx: RequestContext, repo: ForgeRepo) => {
    const deployment = repo.deployments.find((d) => d.id === numberParam(ctx, 'id'));
    if (!deployment) throw notFound();
    return deployment;
  };

  router.on('GET', '/repos/:owner/:repo/deployments/:id', (ctx) => {
    const repo = repoParam(ctx);
    return { body: deploymentJson(ctx.state, repo, deploymentParam(ctx, repo)) };
  });

  router.on('POST', '/repos/:owner/:repo/deployments/:id/statuses', (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const deployment = deploymentParam(ctx, repo);
    const state = oneOf(ctx, 'state', DEPLOY_STATES);
    if (!state)
      throw validationFailed({ resource: 'DeploymentStatus', field: 'state', code: 'missing_field' });
    const status = createDeploymentStatus(ctx.state, repo, deployment, actor, {
      state,
      description: stringField(ctx, 'description'),
      environmentUrl: stringField(ctx, 'environment_url'),
      logUrl: stringField(ctx, 'log_url') ?? stringField(ctx, 'target_url'),
      environment: stringField(ctx, 'environment'),
      autoInactive: typeof ctx.body.auto_inactive === 'boolean' ? ctx.body.auto_inactive : undefined,
    });
    return { status: 201, body: deploymentStatusJson(ctx.state, repo, deployment, status) };
  });

  router.on('GET', '/repos/:owner/:repo/deployments/:id/statuses', (ctx) => {
    const repo = repoParam(ctx);
    const deployment = deploymentParam(ctx, repo);
    return listReply(ctx, deployment.statuses, (s) => deploymentStatusJson(ctx.state, repo, deployment, s));
  });
}
