import { describe, expect, it } from 'vitest';
import type { ModelRef } from '../config/load-config.js';
import type { TaskResult } from './run-task.js';
import { envLines, recommend, recommendPerRole, summarize, wilson } from './summarize.js';

const strong: ModelRef = { provider: 'anthropic', model: 'claude-opus-4-6' };
const cheap: ModelRef = { provider: 'openai', model: 'gpt-5-mini' };
const allStrong = { planner: [strong], coder: [strong], reviewer: [strong], summarizer: [strong] };

/** A config and its scripted outcome: the tasks it resolved and its cost per task. */
const configs = [
  { name: 'all-strong', roles: allStrong, solves: ['t1', 't2'], cost: 1.0 },
  { name: 'cheap-reviewer', roles: { ...allStrong, reviewer: [cheap] }, solves: ['t1', 't2'], cost: 0.8 },
  { name: 'cheap-summarizer', roles: { ...allStrong, summarizer: [cheap] }, solves: ['t1', 't2'], cost: 0.9 },
  // Cheaper, but loses t2: the planner stays.
  { name: 'cheap-planner', roles: { ...allStrong, planner: [cheap] }, solves: ['t1'], cost: 0.7 },
  // Cheaper and loses nothing, but its budgets differ too: no evidence about the coder alone.
  {
    name: 'cheap-coder-tight',
    roles: { ...allStrong, coder: [cheap] },
    budgets: { maxCostUsd: 1 },
    solves: ['t1', 't2'],
    cost: 0.85,
  },
].map((c) => ({ ...c, hash: `h-${c.name}`, budgets: c.budgets ?? {} }));

function results(): TaskResult[] {
  return configs.flatMap((c) =>
    ['t1', 't2'].map((t): TaskResult => ({
      instanceId: t,
      config: c.name,
      configHash: c.hash,
      repeat: 1,
      resolved: c.solves.includes(t),
      steps: 3,
      tokens: 1000,
      costUsd: c.cost,
      costKnown: true,
      durationMs: 1000,
      oracleCalls: 0,
      modelErrors: 0,
      failovers: 0,
      failedTests: [],
    })),
  );
}

describe('recommend', () => {
  const report = summarize(results(), configs);

  it('picks the cheapest config within the margin of the best resolve rate', () => {
    expect(recommend(report, 0.05)?.config).toBe('cheap-reviewer');
    expect(recommend(report, 0.5)?.config).toBe('cheap-planner');
  });

  it('per role: swaps a role only on a pair of configs differing in that role alone that lost no resolved task', () => {
    const pick = recommendPerRole(report, 0.05)!;
    expect(pick.base.config).toBe('cheap-reviewer');
    expect(pick.swaps).toEqual([
      {
        role: 'summarizer',
        from: ['anthropic:claude-opus-4-6'],
        to: ['openai:gpt-5-mini'],
        evidence: { without: 'all-strong', with: 'cheap-summarizer' },
        savedPerTaskUsd: expect.closeTo(0.1, 10),
      },
    ]);
    expect(envLines(pick.roles)).toEqual([
      'DROIDWORKS_MODEL_PLANNER=anthropic:claude-opus-4-6',
      'DROIDWORKS_MODEL_CODER=anthropic:claude-opus-4-6',
      'DROIDWORKS_MODEL_REVIEWER=openai:gpt-5-mini',
      'DROIDWORKS_MODEL_SUMMARIZER=openai:gpt-5-mini',
    ]);
  });

  it('per role: nothing to swap without configs that differ in one role', () => {
    const two = configs.filter((c) => c.name === 'all-strong' || c.name === 'cheap-coder-tight');
    const report2 = summarize(
      results().filter((r) => two.some((c) => c.hash === r.configHash)),
      two,
    );
    expect(recommendPerRole(report2, 0.05)).toMatchObject({
      base: { config: 'cheap-coder-tight' },
      swaps: [],
    });
  });

  it('has no recommendation without results', () => {
    expect(recommendPerRole(summarize([], configs))).toBeUndefined();
  });
});

describe('wilson', () => {
  it.each([
    [0, 0, [0, 0]],
    [2, 2, [0.342, 1]],
    [1, 2, [0.095, 0.905]],
    [30, 30, [0.886, 1]],
  ])('%i of %i → %j', (k, n, [lo, hi]) => {
    const [a, b] = wilson(k, n);
    expect(a).toBeCloseTo(lo!, 3);
    expect(b).toBeCloseTo(hi!, 3);
  });
});
