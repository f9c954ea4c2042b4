import { findLastGoodSha } from '../deploy/last-good-sha.js';
import { makeDeployer } from '../deploy/make-deployer.js';
import { verifyHealth } from '../deploy/verify-health.js';
import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import { commentMarker } from '../github/types.js';
import { redact } from '../util/redact.js';
import {
  healthOptions,
  repoOf,
  showDeploy,
  type DeployRunState,
  type EnvironmentProgress,
} from './deploy-state.js';

export const INCIDENT_LABEL = 'droid:incident';

/**
 * Rolls an environment back to the last good SHA before `failing` (found through the Deployments
 * API): a new GitHub deployment for the restored SHA, the rollback hook (or the deployer with
 * `action: rollback`), the same health checks, a report on the PR (and the droid's issue), and an
 * incident issue when the rollback itself fails. Returns whether the environment was restored.
 */
export async function rollbackEnvironment(
  ctx: RunContext,
  d: DeployRunState,
  env: EnvironmentProgress,
  failing: {
    readonly sha: string;
    readonly deploymentId: number;
    readonly reason: string;
    readonly health?: readonly string[];
  },
): Promise<boolean> {
  const { github } = ctx.services;
  const repo = repoOf(ctx);
  const name = env.config.name;
  const logUrl = ctx.services.dashboardUrl?.(ctx.runId);
  const good = await findLastGoodSha(github, repo, name, {
    excludeId: failing.deploymentId,
    excludeSha: failing.sha,
    signal: ctx.signal,
  });
  if (!good) {
    d.rollback = `no previous good deployment of ${name} to roll back to; ${name} stays on \`${failing.sha.slice(0, 12)}\``;
    await ctx.sink.emit({ type: 'deploy.rollback', environment: name, result: 'no_previous_good' });
    await report(ctx, d, env, failing, 'none');
    return false;
  }
  env.state = 'rolling_back';
  d.rollback = `restoring \`${good.sha.slice(0, 12)}\` on ${name}`;
  await showDeploy(ctx, d);
  const existing = (
    await github.listDeployments(repo, { environment: name, sha: good.sha }, { signal: ctx.signal })
  ).find((x) => (x.payload as { rollbackOf?: unknown } | null)?.rollbackOf === failing.deploymentId);
  const deployment =
    existing ??
    (await github.createDeployment(repo, {
      ref: good.sha,
      environment: name,
      task: 'deploy',
      autoMerge: false,
      requiredContexts: [],
      production: env.config.production,
      payload: { runId: ctx.runId, droidworks: true, rollbackOf: failing.deploymentId },
      description: `droidworks rollback from ${failing.sha.slice(0, 12)}`,
    }));
  await github.createDeploymentStatus(repo, deployment.id, {
    state: 'in_progress',
    description: `rolling back to ${good.sha.slice(0, 12)}`,
    ...(logUrl ? { logUrl } : {}),
  });
  const hook = makeDeployer(env.config.rollback ?? env.config.deployer, { github, repo, deploy: d.services });
  await ctx.sink.emit({
    type: 'deploy.rollback.called',
    environment: name,
    sha: good.sha,
    from: failing.sha,
    deploymentId: deployment.id,
  });
  const result = await hook(
    {
      action: 'rollback',
      repository: d.repoFull,
      environment: name,
      sha: good.sha,
      previousSha: failing.sha,
      deploymentId: deployment.id,
      runId: ctx.runId,
    },
    ctx.signal,
  );
  let ok = result.ok;
  let detail = `rollback hook: ${result.summary}`;
  if (ok && env.config.health) {
    const health = await verifyHealth(env.config.health, healthOptions(ctx, d, good.sha));
    ok = health.healthy;
    detail += `; health after rollback: ${health.reason}`;
  }
  await github.createDeploymentStatus(repo, deployment.id, {
    state: ok ? 'success' : 'failure',
    description: detail.slice(0, 140),
    ...(logUrl ? { logUrl } : {}),
    ...(env.config.url ? { environmentUrl: env.config.url } : {}),
  });
  env.state = ok ? 'rolled_back' : 'rollback_failed';
  d.rollback = `${ok ? 'restored' : 'FAILED to restore'} \`${good.sha.slice(0, 12)}\` on ${name} (deployment ${deployment.id}): ${detail}`;
  await ctx.sink.emit({
    type: 'deploy.rollback',
    environment: name,
    result: ok ? 'restored' : 'failed',
    sha: good.sha,
    detail,
  });
  await showDeploy(ctx, d);
  await report(ctx, d, env, failing, ok ? 'restored' : 'failed', good.sha);
  if (!ok) await openIncident(ctx, d, env, failing, good.sha, detail);
  return ok;
}

/** The issue a droid PR closes (`Closes #N` in its body), if the subject is one. */
async function droidIssueOf(ctx: RunContext): Promise<number | undefined> {
  const { subject } = ctx.job;
  if (subject.type !== 'pull' || !subject.headRef?.startsWith('droid/')) return undefined;
  const pull = await ctx.services.github.getPullRequest(repoOf(ctx), subject.number, { signal: ctx.signal });
  const m = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?) #(\d+)/i.exec(pull.body);
  return m ? Number(m[1]) : undefined;
}

async function report(
  ctx: RunContext,
  d: DeployRunState,
  env: EnvironmentProgress,
  failing: { readonly sha: string; readonly reason: string; readonly health?: readonly string[] },
  outcome: 'restored' | 'failed' | 'none',
  restored?: string,
): Promise<void> {
  const name = env.config.name;
  const marker = commentMarker(`deploy-report run=${ctx.runId} env=${name}`);
  const health = failing.health?.length
    ? ['', '**Health checks**', ...failing.health.map((h) => `- ${h}`)]
    : [];
  const body = redact(
    [
      marker,
      d.action === 'rollback'
        ? `### ${outcome === 'restored' ? '↩️' : '🔥'} Rollback of \`${name}\` from \`${failing.sha.slice(0, 12)}\``
        : `### ${outcome === 'restored' ? '↩️' : '🔥'} Deploy of \`${failing.sha.slice(0, 12)}\` to \`${name}\` failed`,
      '',
      d.action === 'rollback' ? `**Why:** ${failing.reason}` : `**What failed:** ${failing.reason}`,
      ...health,
      '',
      `**Rollback:** ${
        outcome === 'none'
          ? `none: there is no previous good deployment of ${name}.`
          : outcome === 'restored'
            ? `${name} is back on \`${restored?.slice(0, 12)}\`.`
            : `rolling back to \`${restored?.slice(0, 12)}\` failed too; an \`${INCIDENT_LABEL}\` issue is open.`
      }`,
      ...(d.rollback ? ['', d.rollback] : []),
    ].join('\n'),
    ctx.services.secrets,
  );
  const repo = repoOf(ctx);
  await ctx.services.github.upsertComment({ ...repo, issueNumber: ctx.job.subject.number }, marker, body);
  const issue = await droidIssueOf(ctx);
  if (issue !== undefined)
    await ctx.services.github.upsertComment({ ...repo, issueNumber: issue }, marker, body);
}

/** One incident issue per environment and SHA (found again by its marker). */
async function openIncident(
  ctx: RunContext,
  d: DeployRunState,
  env: EnvironmentProgress,
  failing: { readonly sha: string; readonly reason: string },
  restored: string,
  detail: string,
): Promise<void> {
  const name = env.config.name;
  const marker = commentMarker(`incident env=${name} sha=${failing.sha}`);
  const repo = repoOf(ctx);
  const open = await ctx.services.github.listIssuesWithLabels(repo, [INCIDENT_LABEL], { signal: ctx.signal });
  if (open.some((i) => i.body.includes(marker))) return;
  const issue = await ctx.services.github.createIssue(repo, {
    title: `Deploy incident: ${name} could not be rolled back from ${failing.sha.slice(0, 7)}`,
    labels: [INCIDENT_LABEL],
    body: redact(
      [
        marker,
        `Deploying \`${failing.sha}\` to **${name}** failed (${failing.reason}), and rolling back to \`${restored}\` failed too: ${detail}.`,
        '',
        `Run \`${ctx.runId}\` on #${ctx.job.subject.number}.${ctx.services.dashboardUrl?.(ctx.runId) ? ` Dashboard: ${ctx.services.dashboardUrl(ctx.runId)}` : ''}`,
        '',
        `Someone has to look at ${name} now.`,
      ].join('\n'),
      ctx.services.secrets,
    ),
  });
  await ctx.sink.emit({ type: 'deploy.incident', environment: name, sha: failing.sha, issue: issue.number });
}

/**
 * After a failed deploy or verification: rolls the failed environment back when it asks for
 * `autoRollback`, and always releases the deploy lock and the run's place in the deploy order.
 */
export const rollback: StepImpl<RunContext> = {
  async run(ctx) {
    const d = ctx.state.deploy;
    if (!d) return undefined;
    try {
      const failed = d.failed;
      if (failed && failed.environment.config.autoRollback) {
        await rollbackEnvironment(ctx, d, failed.environment, {
          sha: d.sha,
          deploymentId: failed.deploymentId,
          reason: failed.reason,
          health: failed.health?.probes.map((p) => `${p.ok ? '✅' : '❌'} ${p.detail}`),
        });
      } else if (failed) {
        d.rollback = `autoRollback is off for ${failed.environment.config.name}: left as it is`;
        await showDeploy(ctx, d);
      }
    } finally {
      await d.lock?.release();
      d.lock = undefined;
      await d.services.signals.unregister(d.repoFull, ctx.runId, d.sha);
    }
    return undefined;
  },
};
