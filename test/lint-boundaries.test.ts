import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/*
 * The folder boundaries of ARCHITECTURE.md, as eslint.config.js enforces them: each case lints one
 * import as if it were written in a file of that folder, with the project's real configuration
 * (type information off: these files do not exist, and the boundary rule needs none).
 */
const eslint = new ESLint({
  cwd: join(import.meta.dirname, '..'),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
});

async function refused(file: string, from: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import { x } from '${from}';\nexport const y = x;\n`, {
    filePath: file,
  });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

describe('folder boundaries (eslint no-restricted-imports)', () => {
  it.each([
    // adapters import no engine
    ['src/models/router.ts', '../engine/run-steps.js', true],
    ['src/github/probe.ts', '../engine/run-context.js', true],
    ['src/sandbox/probe.ts', '../engine/process-run.js', true],
    ['src/queue/probe.ts', '../engine/handle-intake.js', true],
    ['src/workspace/probe.ts', '../engine/run-context.js', true],
    ['src/models/router.ts', '../config/load-config.js', false],
    // agent/ and models/ take the ledger's types from the ledger, not the engine
    ['src/agent/run-agent.ts', '../engine/run-context.js', true],
    ['src/agent/tools/probe.ts', '../../engine/run-steps.js', true],
    ['src/agent/run-agent.ts', '../models/router.js', false],
    ['src/agent/run-agent.ts', '../engine/ledger.js', true],
    ['src/agent/run-agent.ts', '../ledger/index.js', false],
    // the gateway: no engine, agent or sandbox
    ['src/gateway/app.ts', '../engine/process-run.js', true],
    ['src/gateway/app.ts', '../agent/run-agent.js', true],
    ['src/gateway/app.ts', '../sandbox/types.js', true],
    ['src/gateway/app.ts', '../queue/intake-writer.js', false],
    // nothing but demo/ and cli/ imports the forge, wherever it lives
    ['src/workspace/probe.ts', '../forge/start-forge.js', true],
    ['src/engine/probe.ts', '../demo/forge/start-forge.js', true],
    ['src/steps/probe.ts', '../forge/state.js', true],
    ['src/cli/probe.ts', '../forge/start-forge.js', false],
    ['src/cli/probe.ts', '../demo/forge/start-forge.js', false],
    ['src/demo/probe.ts', './forge/start-forge.js', false],
    ['src/demo/probe.ts', '../forge/start-forge.js', false],
    // product code does not import demo/; demo/ does not import cli/
    ['src/models/probe.ts', '../demo/scripted-turns.js', true],
    ['src/engine/probe.ts', '../demo/sample-repo.js', true],
    ['src/demo/probe.ts', '../cli/context.js', true],
    ['src/cli/probe.ts', '../demo/sample-repo.js', false],
    // tests may import anything
    ['src/workspace/probe.test.ts', '../forge/start-forge.js', false],
    ['test/support/probe.ts', '../../src/forge/start-forge.js', false],
  ] as const)('%s importing %s: refused %s', async (file, from, expected) => {
    expect(await refused(file, from)).toBe(expected);
  });
});
