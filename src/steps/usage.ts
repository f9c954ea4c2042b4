import type { RunState } from '../engine/run-context.js';
import type { TokenUsage } from '../models/types.js';

/** Adds one call's tokens and cost to the run's totals; an unknown cost makes the total unknown. */
export function addUsage(state: RunState, usage: TokenUsage, costUsd: number | null): void {
  state.tokens += usage.inputTokens + usage.outputTokens + usage.cachedInputTokens;
  state.costUsd = state.costUsd === null || costUsd === null ? null : state.costUsd + costUsd;
}
