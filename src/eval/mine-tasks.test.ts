import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { loadConfig } from '../config/load-config.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { createSandboxProvider } from '../sandbox/create-sandbox-provider.js';
import type { SandboxProvider } from '../sandbox/types.js';
import { createLogger } from '../util/logger.js';
import { closedIssues, isTestPath, mineTasks } from './mine-tasks.js';
import { mirrorRepository } from './mirror.js';

describe('closedIssues / isTestPath', () => {
  it.each([
    ['Fixes #12', [12]],
    ['closes #3 and resolves: #4, fixed #3', [3, 4]],
    ['see #5', []],
    ['prefix#6 fixes#7', []],
  ])('%s → %j', (body, want) => expect(closedIssues(body)).toEqual(want));

  it.each([
    ['test/add.test.js', true],
    ['src/calc.spec.ts', true],
    ['pkg/calc_test.go', true],
    ['tests/test_calc.py', true],
    ['src/main/java/CalcTest.java', true],
    ['src/calc.js', false],
    ['contest.js', false],
    ['README.md', false],
  ])('%s is a test file: %s', (path, want) => expect(isTestPath(path)).toBe(want));
});

// Mining from a repository's history: the forge (real REST + git over HTTP), real git mirrors,
// real Docker sandboxes running the tests before and after each fix.
describeDocker('droidworks eval mine', () => {
  let forge: Forge;
  let root: string;
  let sandboxes: SandboxProvider;
  const numbers: Record<string, number> = {};
  const issueNumbers: Record<string, number> = {};

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'dw-mine-'));
    forge = await startForge();
    forge.createUser('alice');
    await forge.createRepo({
      owner: 'acme',
      name: 'calc',
      files: {
        'package.json': '{ "type": "module", "scripts": { "test": "node --test test/" } }\n',
        'calc.js':
          'export function add(a, b) {\n  return a - b;\n}\nexport function mul(a, b) {\n  return a + b;\n}\nexport const neg = (a) => a;\n',
        'test/smoke.test.js':
          "import { test } from 'node:test';\ntest('loads', async () => { await import('../calc.js'); });\n",
      },
    });
    forge.setPermission('acme/calc', 'alice', 'write');
    const fix = async (key: string, files: Record<string, string>, closedBy: 'body' | 'commit' = 'body') => {
      const issue = forge.createIssue('acme/calc', {
        title: `${key} is wrong`,
        body: `Please fix ${key}.`,
        as: 'alice',
      });
      const message = closedBy === 'commit' ? `fix ${key}\n\nCloses #${issue.number}` : `fix ${key}`;
      await forge.commit('acme/calc', { branch: `fix-${key}`, files, message, as: 'alice' });
      const pull = await forge.createPullRequest('acme/calc', {
        title: `Fix ${key}`,
        head: `fix-${key}`,
        body: closedBy === 'commit' ? 'A fix.' : `Fixes #${issue.number}`,
        as: 'alice',
      });
      await forge.mergePullRequest('acme/calc', pull.number, 'alice');
      numbers[key] = pull.number;
      issueNumbers[key] = issue.number;
    };
    const calc = (add: string, mul: string, neg: string) =>
      `export function add(a, b) {\n  return ${add};\n}\nexport function mul(a, b) {\n  return ${mul};\n}\nexport const neg = (a) => ${neg};\n`;
    const testFile = (fn: string, want: string) =>
      `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { ${fn} } from '../calc.js';\ntest('${fn} works', () => assert.equal(${fn}(2, 3), ${want}));\n`;
    // Two real fixes with tests, one fix without a test, one whose test cannot pass, one flaky.
    await fix('add', { 'calc.js': calc('a + b', 'a + b', 'a'), 'test/add.test.js': testFile('add', '5') });
    await fix('mul', { 'calc.js': calc('a + b', 'a * b', 'a'), 'test/mul.test.js': testFile('mul', '6') });
    // Its issue is closed by a keyword in the commit message, not the PR body.
    await fix('neg', { 'calc.js': calc('a + b', 'a * b', '-a') }, 'commit');
    await fix('docs', {
      'calc.js': `${calc('a + b', 'a * b', '-a')}// docs\n`,
      'test/docs.test.js':
        "import { test } from 'node:test';\nimport '../missing-module.js';\ntest('docs', () => {});\n",
    });
    // A test that fails on its first run only: its FAIL_TO_PASS cannot be trusted.
    await fix('flip', {
      'calc.js': `${calc('a + b', 'a * b', '-a')}// docs\n// flip\n`,
      'test/flip.test.js':
        "import { test } from 'node:test';\nimport { existsSync, writeFileSync } from 'node:fs';\ntest('flip', () => {\n  if (existsSync('.flipped')) return;\n  writeFileSync('.flipped', '');\n  throw new Error('first run');\n});\n",
    });
    sandboxes = createSandboxProvider(
      { ...loadConfig({}).sandbox, memoryMb: 512 },
      {
        logger: createLogger({ level: 'silent' }),
        workRoot: join(root, 'sandboxes'),
        namespace: `mine-test-${process.pid}`,
      },
    );
  });

  afterAll(async () => {
    await sandboxes?.close();
    await forge?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('keeps exactly the fixes whose tests fail before and pass after, and says why the others were dropped', async () => {
    const token = forge.createUser('reader').token;
    forge.setPermission('acme/calc', 'reader', 'read');
    const github = createGitHubHost({
      apiUrl: forge.url,
      auth: { kind: 'token', token },
      webhookSecret: undefined,
      botLogin: undefined,
    });
    const mirror = await mirrorRepository({
      cloneUrl: forge.gitUrl('acme', 'calc'),
      dir: join(root, 'mirror.git'),
      token,
    });
    const { tasks, dropped } = await mineTasks(
      { github, sandboxes, mirror },
      { owner: 'acme', repo: 'calc' },
      { since: new Date(Date.now() - 86_400_000), limit: 10 },
    );

    expect(tasks.map((t) => [t.instance_id, t.FAIL_TO_PASS])).toEqual([
      [`acme__calc-${numbers.mul}`, ['mul works']],
      [`acme__calc-${numbers.add}`, ['add works']],
    ]);
    // The mul fix came after the add fix: add's test already passes at its base.
    expect(tasks.map((t) => t.PASS_TO_PASS)).toEqual([['add works', 'loads'], ['loads']]);
    const add = tasks[1]!;
    expect(add.problem_statement).toContain('add is wrong');
    expect(add.test_patch).toContain('+++ b/test/add.test.js');
    expect(add.test_patch).not.toContain('calc.js\n');
    expect(add.patch).toContain('-  return a - b;');
    expect(dropped).toEqual([
      {
        pull: numbers.flip,
        issue: expect.any(Number),
        reason: expect.stringMatching(/^the tests are not reproducible: two runs at the base/),
      },
      {
        pull: numbers.docs,
        issue: expect.any(Number),
        reason: expect.stringMatching(/^the tests fail even with the fix/),
      },
      // Found through its commit message.
      { pull: numbers.neg, issue: issueNumbers.neg, reason: 'the fix changed no test file' },
    ]);
  }, 240_000);
});
