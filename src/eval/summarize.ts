import type { BudgetOverrides } from '../config/repo-config.js';
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
  /** Attempts whose resolve workflow failed (a step failed; no pull request would have been opened). */
  readonly failedRuns: number;
  /** Attempts that could not be made or scored (checkout, test patch, no test command). */
  readonly errors: number;
}

export interface EvalReport {
  readonly configs: readonly ConfigSummary[];
  /** Per task, the configs that resolved it in at least one repeat. */
  readonly tasks: ReadonlyArray<{ readonly instanceId: string; readonly solvedBy: readonly string[] }>;
  /** The configs' role lists, for `recommend`. */
  readonly roles: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** The configs' budgets, for `recommend --per-role` (absent in reports of earlier versions). */
  readonly budgets?: Readonly<Record<string, BudgetOverrides>>;
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
    budgets?: BudgetOverrides;
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
      failedRuns: mine.filter((r) => r.runError !== undefined).length,
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
    budgets: Object.fromEntries(configs.map((c) => [c.name, { ...c.budgets }])),
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
  return envLines(report.roles[config] ?? {});
}

/** `DROIDWORKS_MODEL_<ROLE>=<list>` per role, in the roles' usual order. Pure. */
export function envLines(roles: Readonly<Record<string, readonly string[]>>): string[] {
  const order = ['planner', 'coder', 'reviewer', 'summarizer', 'oracle'];
  return Object.entries(roles)
    .sort(([a], [b]) => (order.indexOf(a) >>> 0) - (order.indexOf(b) >>> 0))
    .map(([role, list]) => `DROIDWORKS_MODEL_${role.toUpperCase()}=${list.join(',')}`);
}

/** One role moved to a cheaper model list by {@link recommendPerRole}, and the results that justify it. */
export interface RoleSwap {
  readonly role: string;
  /** The recommended config's list for the role (empty: the server's). */
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** The pair of configs that differ only in this role: `with` uses `to`, `without` uses `from`. */
  readonly evidence: { readonly without: string; readonly with: string };
  /** How much less `with` cost per task than `without`. */
  readonly savedPerTaskUsd: number;
}

export interface PerRoleRecommendation {
  /** The config {@link recommend} picked, the starting point. */
  readonly base: ConfigSummary;
  /** Its role lists with the swaps applied (roles it leaves to the server are absent). */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly swaps: readonly RoleSwap[];
}

/**
 * {@link recommend}'s config, then per role a cheaper model list where the results show it costs
 * no resolved tasks. The rule: a role of the recommended config R moves from list A to list B when
 * two evaluated configs X (with A) and Y (with B) differ only in that role (every other role list
 * and every budget equal), Y costs less per task than X, Y's resolve rate is at least X's, and Y
 * resolved every task X resolved. Of several such pairs for one role, the one saving most per task
 * wins. Each swap is judged on its own: the combination is a new config, to be confirmed by running
 * it. Pure; `undefined` when no config has results.
 */
export function recommendPerRole(report: EvalReport, margin = 0.05): PerRoleRecommendation | undefined {
  const base = recommend(report, margin);
  if (!base) return undefined;
  const list = (config: string, role: string) => report.roles[config]?.[role] ?? [];
  const same = (a: readonly string[], b: readonly string[]) => a.join(',') === b.join(',');
  const budgets = (config: string) => JSON.stringify(Object.entries(report.budgets?.[config] ?? {}).sort());
  const solved = (config: string) =>
    new Set(report.tasks.filter((t) => t.solvedBy.includes(config)).map((t) => t.instanceId));
  const roleNames = [...new Set(Object.values(report.roles).flatMap((r) => Object.keys(r)))];
  const best = new Map<string, RoleSwap>();
  const tried = report.configs.filter((c) => c.attempts > 0);
  for (const x of tried)
    for (const y of tried) {
      if (x === y || budgets(x.config) !== budgets(y.config)) continue;
      const differ = roleNames.filter((r) => !same(list(x.config, r), list(y.config, r)));
      if (differ.length !== 1) continue;
      const role = differ[0]!;
      const from = list(base.config, role);
      if (!same(list(x.config, role), from) || same(list(y.config, role), from)) continue;
      const saved = x.costPerTaskUsd - y.costPerTaskUsd;
      if (saved <= 0 || y.resolveRate < x.resolveRate) continue;
      const ySolved = solved(y.config);
      if (![...solved(x.config)].every((t) => ySolved.has(t))) continue;
      if ((best.get(role)?.savedPerTaskUsd ?? 0) >= saved) continue;
      best.set(role, {
        role,
        from,
        to: list(y.config, role),
        evidence: { without: x.config, with: y.config },
        savedPerTaskUsd: saved,
      });
    }
  const roles: Record<string, readonly string[]> = { ...report.roles[base.config] };
  for (const swap of best.values()) {
    if (swap.to.length) roles[swap.role] = swap.to;
    else delete roles[swap.role];
  }
  return { base, roles, swaps: [...best.values()] };
}
