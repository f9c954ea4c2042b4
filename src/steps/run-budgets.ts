import type { AgentBudgets } from '../agent/run-agent.js';
import type { BudgetOverrides } from '../config/repo-config.js';
import type { RunContext } from '../engine/run-context.js';

const LIMITS = ['maxSteps', 'maxTokens', 'maxCostUsd', 'maxMinutes'] as const;

/**
 * The limits a run works under: the server's are ceilings, and `.droidworks.yml` and the workflow
 * can only lower them (the smallest value given wins, per limit). Pure.
 */
export function effectiveBudgets(
  server: AgentBudgets,
  ...overrides: ReadonlyArray<BudgetOverrides | undefined>
): AgentBudgets {
  const limits = { ...server };
  for (const o of overrides)
    for (const key of LIMITS) {
      const value = o?.[key];
      if (value !== undefined && Number.isFinite(value)) limits[key] = Math.min(limits[key], value);
    }
  return limits;
}

/**
 * The run's budgets (the server's, lowered by the repository's and the workflow's) minus what the
 * run has spent so far. Pure apart from the clock.
 */
export function runBudgets(ctx: RunContext): { remaining: AgentBudgets; exhausted?: string } {
  const limits = effectiveBudgets(ctx.services.config.budgets, ctx.repoConfig.budgets, ctx.workflow.budgets);
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
