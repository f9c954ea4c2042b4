import { budgetStopped, type TaskResult } from './run-task.js';

/** How one config did over every task and repeat. */
export interface ConfigSummary {
  readonly config: string;
  readonly configHash: string;
  readonly attempts: number;
  readonly resolved: number;
  /** resolved / attempts. */
  readonly resolveRate: number;
  /** 95% Wilson score interval of the resolve rate. */
  readonly interval: readonly [number, number];
  readonly costPerTaskUsd: number;
  /** `null` when nothing was resolved. */
  readonly costPerResolvedUsd: number | null;
  /** False when some call used a model without a price. */
  readonly costKnown: boolean;
  readonly tokensPerTask: number;
  readonly secondsPerTask: number;
  readonly stepsPerTask: number;
  readonly oracleCalls: number;
  readonly budgetStops: number;
  readonly modelErrors: number;
  readonly failovers: number;
  readonly errors: number;
}

export interface EvalReport {
  readonly configs: readonly ConfigSummary[];
  /** Per task, the configs that resolved it in at least one repeat. */
  readonly tasks: ReadonlyArray<{ readonly instanceId: string; readonly solvedBy: readonly string[] }>;
  /** The configs' role lists, for `recommend`. */
  readonly roles: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** 95% Wilson score interval for k successes in n trials. Pure. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 0];
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The report over a set of results, configs in the order given. Pure. */
export function summarize(
  results: readonly TaskResult[],
  configs: ReadonlyArray<{
    name: string;
    hash: string;
    roles: Readonly<Record<string, ReadonlyArray<{ provider: string; model: string }>>>;
  }>,
): EvalReport {
  const summaries = configs.map((c): ConfigSummary => {
    const mine = results.filter((r) => r.configHash === c.hash);
    const n = mine.length;
    const resolved = mine.filter((r) => r.resolved).length;
    const sum = (f: (r: TaskResult) => number) => mine.reduce((s, r) => s + f(r), 0);
    const cost = sum((r) => r.costUsd);
    const avg = (f: (r: TaskResult) => number) => (n === 0 ? 0 : sum(f) / n);
    return {
      config: c.name,
      configHash: c.hash,
      attempts: n,
      resolved,
      resolveRate: n === 0 ? 0 : resolved / n,
      interval: wilson(resolved, n),
      costPerTaskUsd: n === 0 ? 0 : cost / n,
      costPerResolvedUsd: resolved === 0 ? null : cost / resolved,
      costKnown: mine.every((r) => r.costKnown),
      tokensPerTask: avg((r) => r.tokens),
      secondsPerTask: avg((r) => r.durationMs / 1000),
      stepsPerTask: avg((r) => r.steps),
      oracleCalls: sum((r) => r.oracleCalls),
      budgetStops: mine.filter(budgetStopped).length,
      modelErrors: sum((r) => r.modelErrors),
      failovers: sum((r) => r.failovers),
      errors: mine.filter((r) => r.error !== undefined).length,
    };
  });
  const ids = [...new Set(results.map((r) => r.instanceId))].sort();
  const nameOf = new Map(configs.map((c) => [c.hash, c.name]));
  return {
    configs: summaries,
    tasks: ids.map((id) => ({
      instanceId: id,
      solvedBy: [
        ...new Set(
          results
            .filter((r) => r.instanceId === id && r.resolved)
            .map((r) => nameOf.get(r.configHash) ?? r.config),
        ),
      ],
    })),
    roles: Object.fromEntries(
      configs.map((c) => [
        c.name,
        Object.fromEntries(
          Object.entries(c.roles).map(([role, list]) => [role, list.map((m) => `${m.provider}:${m.model}`)]),
        ),
      ]),
    ),
  };
}

/**
 * The cheapest config (by cost per task) whose resolve rate is within `margin` of the best one.
 * Pure; `undefined` when no config has results.
 */
export function recommend(report: EvalReport, margin = 0.05): ConfigSummary | undefined {
  const withResults = report.configs.filter((c) => c.attempts > 0);
  if (withResults.length === 0) return undefined;
  const best = Math.max(...withResults.map((c) => c.resolveRate));
  return withResults
    .filter((c) => c.resolveRate >= best - margin - 1e-12)
    .sort((a, b) => a.costPerTaskUsd - b.costPerTaskUsd || b.resolveRate - a.resolveRate)[0];
}

/** The `DROIDWORKS_MODEL_*` lines that select a config's roles. */
export function modelEnvLines(report: EvalReport, config: string): string[] {
  const roles = report.roles[config] ?? {};
  return Object.entries(roles).map(
    ([role, list]) => `DROIDWORKS_MODEL_${role.toUpperCase()}=${list.join(',')}`,
  );
}
