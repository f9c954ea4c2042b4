import { describe, expect, it } from 'vitest';
import { effectiveBudgets } from './run-budgets.js';

const server = { maxSteps: 2, maxTokens: 100_000, maxCostUsd: 5, maxMinutes: 30 };

describe('effectiveBudgets: the server limits are ceilings', () => {
  it.each([
    ['no overrides', [], server],
    ['a repository asking for more steps is held to the server', [{ maxSteps: 50 }], server],
    [
      'a workflow asking for 1000 USD and 1440 min is held',
      [{}, { maxCostUsd: 1000, maxMinutes: 1440 }],
      server,
    ],
    [
      'a repository may lower',
      [{ maxTokens: 5_000, maxSteps: 1 }],
      { ...server, maxTokens: 5_000, maxSteps: 1 },
    ],
    [
      'the lowest of repository and workflow wins, per limit',
      [
        { maxCostUsd: 2, maxMinutes: 60 },
        { maxCostUsd: 3, maxMinutes: 10 },
      ],
      { ...server, maxCostUsd: 2, maxMinutes: 10 },
    ],
    ['undefined overrides are ignored', [undefined, { maxSteps: undefined }], server],
  ] as const)('%s', (_name, overrides, expected) => {
    expect(effectiveBudgets(server, ...overrides)).toEqual(expected);
  });
});
