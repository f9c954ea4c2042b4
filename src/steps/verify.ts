import { verifyHealth, type ProbeResult } from '../deploy/verify-health.js';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { deployStateOf, healthOptions, repoOf, showDeploy } from './deploy-state.js';

const line = (p: ProbeResult): string =>
  `${p.ok ? '✅' : '❌'} ${new Date(p.at).toISOString().slice(11, 19)} ${p.detail}`;

/**
 * Verifies the environment just deployed with its health checks, marks its deployment `success`
 * (or `failure`), soaks before the next environment, and loops back to `deploy` for it.
 */
export const verify: StepImpl<RunContext> = {
  async run(ctx) {
    const d = deployStateOf(ctx, 'verify');
    if (d.done || d.action === 'rollback') return undefined;
    const env = d.environments[d.index];
    if (!env?.deploymentId) return undefined;
    const name = env.config.name;
    const repo = repoOf(ctx);
    const logUrl = ctx.services.dashboardUrl?.(ctx.runId);
    const health = env.config.health;
    if (health) {
      env.state = 'verifying';
      env.health = [];
      const outcome = await verifyHealth(health, {
        ...healthOptions(ctx, d, d.sha),
        onProbe: async (p) => {
          env.health = [...(env.health ?? []), line(p)].slice(-10);
          await showDeploy(ctx, d, false);
        },
      });
      await ctx.sink.emit({
        type: 'deploy.health',
        environment: name,
        healthy: outcome.healthy,
        reason: outcome.reason,
      });
      if (!outcome.healthy) {
        env.state = 'failed';
        env.detail = `health: ${outcome.reason}`;
        d.failed = {
          environment: env,
          deploymentId: env.deploymentId,
          reason: `health checks failed: ${outcome.reason}`,
          health: outcome,
        };
        await ctx.services.github.createDeploymentStatus(repo, env.deploymentId, {
          state: 'failure',
          description: `health: ${outcome.reason}`.slice(0, 140),
          ...(logUrl ? { logUrl } : {}),
        });
        await showDeploy(ctx, d);
        throw new StepFailedError(
          'verify',
          `${name} is unhealthy after deploying ${d.sha.slice(0, 12)}: ${outcome.reason}`,
        );
      }
    }
    await ctx.services.github.createDeploymentStatus(repo, env.deploymentId, {
      state: 'success',
      description: health ? 'deployed and healthy' : 'deployed',
      ...(env.config.url ? { environmentUrl: env.config.url } : {}),
      ...(logUrl ? { logUrl } : {}),
    });
    await ctx.sink.emit({
      type: 'deploy.succeeded',
      environment: name,
      sha: d.sha,
      deploymentId: env.deploymentId,
    });
    const more = d.index + 1 < d.environments.length;
    if (more && env.config.soakSec > 0) {
      env.state = 'soaking';
      await showDeploy(ctx, d);
      if (health) {
        const soak = await verifyHealth(
          { ...health, successes: Number.MAX_SAFE_INTEGER, timeoutSec: env.config.soakSec },
          healthOptions(ctx, d, d.sha),
        );
        if (soak.by === 'failures') {
          env.state = 'failed';
          d.failed = {
            environment: env,
            deploymentId: env.deploymentId,
            reason: `unhealthy while soaking: ${soak.reason}`,
            health: soak,
          };
          await ctx.services.github.createDeploymentStatus(repo, env.deploymentId, {
            state: 'failure',
            description: 'unhealthy while soaking',
          });
          throw new StepFailedError('verify', `${name} became unhealthy while soaking: ${soak.reason}`);
        }
      } else await new Promise((r) => setTimeout(r, env.config.soakSec * 1000));
    }
    env.state = 'succeeded';
    await d.lock?.release();
    d.lock = undefined;
    d.index += 1;
    if (more) {
      await showDeploy(ctx, d);
      return { goto: 'deploy' };
    }
    d.done = true;
    await d.services.signals.unregister(d.repoFull, ctx.runId, d.sha);
    await showDeploy(ctx, d);
    return undefined;
  },
};
