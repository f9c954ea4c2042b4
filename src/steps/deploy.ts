import { makeDeployer } from '../deploy/make-deployer.js';
import { findLastGoodSha } from '../deploy/last-good-sha.js';
import type { RunContext } from '../engine/run-context.js';
import { eventsOf } from '../ledger/index.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { deployStateOf, repoOf, showDeploy, type DeployRunState } from './deploy-state.js';
import { rollbackEnvironment } from './rollback.js';

/** A newer deploy run of this repository that is still queued or running, if any. */
async function newerLiveRun(ctx: RunContext, d: DeployRunState): Promise<string | undefined> {
  for (const newer of await d.services.signals.newerThan(d.repoFull, d.seq)) {
    const state = await ctx.services.ledger.state(newer.runId);
    if (state.status === 'queued' || state.status === 'running')
      return `\`${newer.sha.slice(0, 12)}\` (run \`${newer.runId}\`${state.subject ? `, ${state.subject}` : ''})`;
  }
  return undefined;
}

/** Ends the run as superseded: its comment says by which commit. */
async function supersede(ctx: RunContext, d: DeployRunState, by: string): Promise<void> {
  d.superseded = by;
  d.done = true;
  for (const e of d.environments)
    if (e.state === 'pending' || e.state === 'waiting_lock') e.state = 'skipped';
  await ctx.sink.emit({ type: 'deploy.superseded', sha: d.sha, by });
  await d.services.signals.unregister(d.repoFull, ctx.runId, d.sha);
  ctx.state.status = 'superseded';
  await showDeploy(ctx, d);
}

/** The GitHub deployment of this run for an environment, found by the run id in its payload. */
async function deploymentFor(ctx: RunContext, d: DeployRunState, environment: string, production: boolean) {
  const repo = repoOf(ctx);
  const existing = (
    await ctx.services.github.listDeployments(repo, { environment, sha: d.sha }, { signal: ctx.signal })
  ).find((x) => (x.payload as { runId?: unknown } | null)?.runId === ctx.runId && x.task === 'deploy');
  if (existing) return { deployment: existing, reused: true };
  const deployment = await ctx.services.github.createDeployment(
    repo,
    {
      ref: d.sha,
      environment,
      task: 'deploy',
      autoMerge: false,
      requiredContexts: [],
      production,
      payload: { runId: ctx.runId, droidworks: true },
      description: `droidworks run ${ctx.runId}`,
    },
    { signal: ctx.signal },
  );
  return { deployment, reused: false };
}

/**
 * Deploys the next environment: supersede check and deploy lock (one deploy per environment),
 * approval when required, the GitHub deployment (`in_progress`), then the deployer. A failed
 * deploy marks the deployment `failure` and fails the run (the `rollback` step follows).
 */
export const deploy: StepImpl<RunContext> = {
  async run(ctx) {
    const d = deployStateOf(ctx, 'deploy');
    if (d.done) return undefined;
    if (d.action === 'rollback') {
      await manualRollback(ctx, d);
      return undefined;
    }
    if (!d.rolloutStarted && d.index === 0) await resumeFromLedger(ctx, d);
    const env = d.environments[d.index];
    if (!env) return undefined;
    const repo = repoOf(ctx);
    const name = env.config.name;

    if (!d.rolloutStarted) {
      const newer = await newerLiveRun(ctx, d);
      if (newer) return void (await supersede(ctx, d, newer));
    }
    if (env.config.requireApproval) {
      const wait = ctx.services.waitForApproval;
      if (!wait)
        throw new StepFailedError('deploy', `${name} requires approval but this worker cannot wait for it`);
      env.state = 'waiting_approval';
      env.detail = `reply \`${ctx.services.config.commandPrefix} approve\` to deploy to ${name}`;
      ctx.state.status = 'waiting_approval';
      await showDeploy(ctx, d);
      const subject = `${ctx.job.repo.owner}/${ctx.job.repo.name}#${ctx.job.subject.number}`.toLowerCase();
      try {
        const by = await wait(subject, ctx.repoConfig.approvalTimeoutMinutes * 60_000, ctx.signal);
        await ctx.sink.emit({ type: 'deploy.approved', environment: name, by });
        env.detail = `approved by @${by}`;
      } catch (err) {
        ctx.signal.throwIfAborted();
        throw new StepFailedError(
          'deploy',
          `no approval for ${name} within ${ctx.repoConfig.approvalTimeoutMinutes} minutes`,
          false,
          { cause: err },
        );
      }
      ctx.state.status = 'running';
    }

    env.state = 'waiting_lock';
    await showDeploy(ctx, d, false);
    const got = await d.services.lock.acquire(d.repoFull, name, d.lockOwner, {
      signal: ctx.signal,
      giveUp: async () => (d.rolloutStarted ? undefined : newerLiveRun(ctx, d)),
    });
    if ('gaveUp' in got) return void (await supersede(ctx, d, got.gaveUp));
    d.lock = got.lock;
    d.rolloutStarted = true;

    const previous = await findLastGoodSha(ctx.services.github, repo, name, { signal: ctx.signal });
    const { deployment, reused } = await deploymentFor(ctx, d, name, env.config.production);
    env.deploymentId = deployment.id;
    env.state = 'deploying';
    await ctx.sink.emit({
      type: 'deploy.started',
      environment: name,
      sha: d.sha,
      deploymentId: deployment.id,
      reused,
    });
    const logUrl = ctx.services.dashboardUrl?.(ctx.runId);
    await ctx.services.github.createDeploymentStatus(repo, deployment.id, {
      state: 'in_progress',
      description: `deploying ${d.sha.slice(0, 12)}`,
      ...(logUrl ? { logUrl } : {}),
      ...(env.config.url ? { environmentUrl: env.config.url } : {}),
    });
    await showDeploy(ctx, d);

    const deployer = makeDeployer(env.config.deployer, {
      github: ctx.services.github,
      repo,
      deploy: d.services,
    });
    const result = await deployer(
      {
        action: 'deploy',
        repository: d.repoFull,
        environment: name,
        sha: d.sha,
        previousSha: previous?.sha ?? null,
        deploymentId: deployment.id,
        runId: ctx.runId,
      },
      AbortSignal.any([ctx.signal, got.lock.lost]),
    );
    await ctx.sink.emit({
      type: 'deploy.deployer',
      environment: name,
      ok: result.ok,
      summary: result.summary,
    });
    env.detail = result.summary;
    if (!result.ok) {
      env.state = 'failed';
      await ctx.services.github.createDeploymentStatus(repo, deployment.id, {
        state: 'failure',
        description: result.summary.slice(0, 140),
        ...(logUrl ? { logUrl } : {}),
      });
      d.failed = {
        environment: env,
        deploymentId: deployment.id,
        reason: `deploy failed: ${result.summary}`,
        output: result.output,
      };
      await showDeploy(ctx, d);
      throw new StepFailedError(
        'deploy',
        `deploying ${d.sha.slice(0, 12)} to ${name} failed: ${result.summary}`,
      );
    }
    env.state = 'verifying';
    await showDeploy(ctx, d);
    return undefined;
  },
};

/**
 * A resumed run (its worker died) goes on where the ledger says: environments already verified are
 * not deployed again, and a run that had started rolling out can no longer be superseded.
 */
async function resumeFromLedger(ctx: RunContext, d: DeployRunState): Promise<void> {
  const events = await ctx.services.ledger.events(ctx.runId);
  if (events.some((e) => e.type === 'deploy.started')) d.rolloutStarted = true;
  const done = new Set(
    eventsOf(events, 'deploy.succeeded')
      .filter((e) => e.sha === d.sha)
      .map((e) => e.environment),
  );
  while (d.index < d.environments.length && done.has(d.environments[d.index]!.config.name)) {
    d.environments[d.index]!.state = 'succeeded';
    d.index += 1;
  }
}

/** `/droid rollback [environment]`: restores the last good SHA before the live one, now. */
async function manualRollback(ctx: RunContext, d: DeployRunState): Promise<void> {
  const env = d.environments[0]!;
  const name = env.config.name;
  const got = await d.services.lock.acquire(d.repoFull, name, d.lockOwner, { signal: ctx.signal });
  if ('gaveUp' in got) return;
  d.lock = got.lock;
  try {
    const repo = repoOf(ctx);
    const live = await findLastGoodSha(ctx.services.github, repo, name, { signal: ctx.signal });
    if (!live) {
      d.rollback = `nothing to roll back: ${name} has no successful deployment`;
      d.done = true;
      await showDeploy(ctx, d);
      throw new StepFailedError('deploy', d.rollback);
    }
    const ok = await rollbackEnvironment(ctx, d, env, {
      sha: live.sha,
      deploymentId: live.deploymentId,
      reason: `rollback requested by @${ctx.job.requestedBy}`,
    });
    d.done = true;
    if (!ok) throw new StepFailedError('deploy', `rolling back ${name} failed: ${d.rollback ?? ''}`);
  } finally {
    await got.lock.release();
    d.lock = undefined;
  }
}
