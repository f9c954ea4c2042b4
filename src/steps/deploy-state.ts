import { randomBytes } from 'node:crypto';
import type { DeployConfig, DeployEnvironmentConfig } from '../config/deploy-config.js';
import type { DeployServices } from '../deploy/deploy-services.js';
import type { HeldLock } from '../deploy/deploy-lock.js';
import type { GateCheck } from '../deploy/decide-gate.js';
import { renderDeploy, type DeployView, type EnvironmentState } from '../deploy/render-deploy.js';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError } from '../engine/run-steps.js';
import type { HealthOutcome } from '../deploy/verify-health.js';

export interface EnvironmentProgress {
  readonly config: DeployEnvironmentConfig;
  state: EnvironmentState;
  deploymentId?: number;
  detail?: string;
  health?: string[];
}

/** A deploy run's rollout, kept on the run's state while it runs (the ledger keeps the history). */
export interface DeployRunState {
  readonly config: DeployConfig;
  readonly services: DeployServices;
  readonly action: 'deploy' | 'rollback';
  readonly sha: string;
  readonly seq: number;
  readonly repoFull: string;
  /** Holder name of this attempt's deploy locks: a resumed attempt waits for a dead one's to expire. */
  readonly lockOwner: string;
  /** Environments this run deploys, in order. */
  readonly environments: EnvironmentProgress[];
  /** Index of the environment being deployed. */
  index: number;
  gate?: { verdict: string; checks: readonly GateCheck[]; note?: string };
  lock?: HeldLock;
  /** Set once the first environment started: from then on nothing supersedes this run. */
  rolloutStarted: boolean;
  failed?: {
    readonly environment: EnvironmentProgress;
    readonly deploymentId: number;
    readonly reason: string;
    readonly output?: string;
    readonly health?: HealthOutcome;
  };
  rollback?: string;
  superseded?: string;
  done: boolean;
}

/** The run's deploy state, created on first use from the job and the repository's `deploy:` block. */
export function deployStateOf(ctx: RunContext, step: string): DeployRunState {
  if (ctx.state.deploy) return ctx.state.deploy;
  const services = ctx.services.deploy;
  if (!services) throw new StepFailedError(step, 'this worker was started without the deploy stage');
  const config = ctx.repoConfig.deploy;
  if (!config) throw new StepFailedError(step, "this repository's `.droidworks.yml` has no `deploy:` block");
  const request = ctx.job.deploy;
  if (!request?.sha && request?.action !== 'rollback')
    throw new StepFailedError(step, 'this run names no commit to deploy');
  const chosen = request.environment
    ? config.environments.filter((e) => e.name === request.environment)
    : config.environments;
  if (chosen.length === 0)
    throw new StepFailedError(
      step,
      `no environment named "${request.environment}" (known: ${config.environments.map((e) => e.name).join(', ')})`,
    );
  const forRollback = request.action === 'rollback' && !request.environment ? chosen.slice(-1) : chosen;
  ctx.state.deploy = {
    config,
    services,
    action: request.action,
    sha: request.sha ?? '',
    seq: request.seq,
    repoFull: `${ctx.job.repo.owner}/${ctx.job.repo.name}`,
    lockOwner: `${ctx.runId}/${randomBytes(6).toString('hex')}`,
    environments: forRollback.map((c) => ({ config: c, state: 'pending' })),
    index: 0,
    rolloutStarted: false,
    done: false,
  };
  return ctx.state.deploy;
}

/** Shows the deploy in the progress comment (its note) and writes it now when `force`. */
export async function showDeploy(ctx: RunContext, d: DeployRunState, force = true): Promise<void> {
  const view: DeployView = {
    sha: d.sha,
    action: d.action,
    gate: d.gate,
    environments: d.environments.map((e) => ({
      name: e.config.name,
      state: e.state,
      deploymentId: e.deploymentId,
      detail: e.detail,
      health: e.health,
      url: e.config.url,
    })),
    rollback: d.rollback,
    superseded: d.superseded,
  };
  ctx.state.note = renderDeploy(view);
  await ctx.progress(force);
}

export const repoOf = (ctx: RunContext) => ({ owner: ctx.job.repo.owner, repo: ctx.job.repo.name });

/** Options of `verifyHealth` for this run: allowed hosts, and `health.command` run in a deploy container. */
export function healthOptions(ctx: RunContext, d: DeployRunState, sha: string) {
  const run = d.services.runContainer;
  return {
    allowHosts: d.services.env.allowHosts,
    signal: ctx.signal,
    command: run
      ? (command: string, signal: AbortSignal) =>
          run({
            repo: repoOf(ctx),
            sha,
            image: d.services.runnerImage,
            command,
            env: {},
            timeoutMs: 60_000,
            signal,
          })
      : undefined,
  };
}
