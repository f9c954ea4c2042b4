import type { AgentBudgets } from '../agent/run-agent.js';
import type { RunContext } from '../engine/run-context.js';

/**
 * The run's budgets (server config, then the repository's, then the workflow's) minus what the run
 * has spent so far. Pure apart from the clock.
 */
export function runBudgets(ctx: RunContext): { remaining: AgentBudgets; exhausted?: string } {
  const server = ctx.services.config.budgets;
  const limits = { ...server, ...ctx.repoConfig.budgets, ...ctx.workflow.budgets };
  const elapsedMin = (Date.now() - ctx.job.queuedAt) / 60_000;
  const remaining: AgentBudgets = {
    maxSteps: limits.maxSteps,
    maxTokens: Math.max(0, limits.maxTokens - ctx.state.tokens),
    maxCostUsd: Math.max(0, limits.maxCostUsd - (ctx.state.costUsd ?? 0)),
    maxMinutes: Math.max(0, limits.maxMinutes - elapsedMin),
  };
  const exhausted =
    remaining.maxTokens <= 0
      ? 'token'
      : remaining.maxCostUsd <= 0
        ? 'cost'
        : remaining.maxMinutes <= 0
          ? 'time'
          : undefined;
  return exhausted ? { remaining, exhausted } : { remaining };
}
