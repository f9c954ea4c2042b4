import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../config/repo-config.js';
import { patchPaths } from './checkout.js';
import { parseEvalConfig } from './eval-config.js';
import { evalRepoConfig } from './run-task.js';

describe('evalRepoConfig', () => {
  const repo = parseRepoConfig(
    [
      'test: npm test',
      'planApproval: true',
      'testRounds: 2',
      'models: { coder: openai:gpt-5.1, reviewer: openai:gpt-5-mini }',
      'budgets: { maxCostUsd: 3, maxSteps: 50 }',
    ].join('\n'),
  );
  const config = parseEvalConfig(
    'models: { coder: anthropic:claude-sonnet-4-6 }\nbudgets: { maxCostUsd: 5, maxSteps: 20, maxOracleCalls: 1 }\n',
    'c.yml',
  );

  it("puts the config's models on top, lowers budgets only, never waits for approval", () => {
    const merged = evalRepoConfig(repo, config);
    expect(merged.models).toEqual({
      coder: [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }],
      reviewer: [{ provider: 'openai', model: 'gpt-5-mini' }],
    });
    expect(merged.budgets).toEqual({ maxCostUsd: 3, maxSteps: 20, maxOracleCalls: 1 });
    expect(merged.planApproval).toBe(false);
    expect(merged.testRounds).toBe(2);
    expect(merged.test).toEqual(['npm test']);
  });

  it('takes the test command from the command line over the repository', () => {
    expect(evalRepoConfig(repo, config, 'make check').test).toEqual(['make check']);
  });
});

describe('patchPaths', () => {
  it.each([
    ['', []],
    [
      'diff --git a/test/a.test.js b/test/a.test.js\nnew file mode 100644\n--- /dev/null\n+++ b/test/a.test.js\n',
      ['test/a.test.js'],
    ],
    [
      'diff --git a/t/old.py b/t/new.py\nsimilarity index 90%\ndiff --git a/t/x.py b/t/x.py\n',
      ['t/old.py', 't/new.py', 't/x.py'],
    ],
  ])('%j → %j', (patch, want) => expect(patchPaths(patch)).toEqual(want));
});
