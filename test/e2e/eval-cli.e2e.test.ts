import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EvalReport } from '../../src/eval/summarize.js';
import { bareEnv, runCli, spawnCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { describeDocker } from '../support/docker.js';
import {
  fakeReply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';

// `droidworks eval run` and `eval recommend` as a user runs them: the real CLI process, a
// SWE-bench-format task file (JSON-encoded test lists, extra SWE-bench fields) with one task on a
// local repository, real Docker sandboxes, and the fake model server behind the real OpenAI SDK.
// The coder alone cannot fix mul(); with `ask_oracle` it can: configs with and without an oracle.

const USAGE = { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 0 };
/** The reviewer reads the issue and the diff: a bigger request than the planner's. */
const REVIEW_USAGE = { inputTokens: 6000, outputTokens: 200, cachedInputTokens: 0 };
const PRICES = {
  'fake-weak': { input: 1, output: 4, cachedInput: 0.25 },
  'fake-cheap': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'fake-oracle': { input: 10, output: 40, cachedInput: 2.5 },
};

function handler(request: RecordedRequest) {
  const text = JSON.stringify(request.body);
  if (text.includes('Write the plan')) return fakeReply.text('- fix mul', { usage: USAGE });
  if (text.includes('You review a change'))
    return fakeReply.text('VERDICT: approve', { usage: REVIEW_USAGE });
  if (request.model === 'fake-oracle')
    return fakeReply.text('mul adds; it must multiply: `return a * b;`', { usage: USAGE });
  const turns = (request.body.messages as Array<{ role: string }>).filter(
    (m) => m.role === 'assistant',
  ).length;
  if (turns === 0 && request.toolNames.includes('ask_oracle'))
    return fakeReply.tool(
      'ask_oracle',
      { question: 'Why is mul wrong?', files: ['calc.js'] },
      { usage: USAGE },
    );
  if (turns === 1 && text.includes('it must multiply'))
    return fakeReply.tool(
      'str_replace_based_edit_tool',
      { command: 'str_replace', path: 'calc.js', old_str: 'return a + b;', new_str: 'return a * b;' },
      { usage: USAGE },
    );
  return fakeReply.tool('finish', { summary: 'done' }, { usage: USAGE });
}

let root: string;
let server: FakeModelServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dw-eval-cli-'));
  const repo = join(root, 'mirrors', 'acme', 'calc');
  mkdirSync(join(repo, 'test'), { recursive: true });
  writeFileSync(join(repo, 'calc.js'), 'export function mul(a, b) {\n  return a + b;\n}\n');
  writeFileSync(join(repo, '.gitignore'), 'package-lock.json\nnode_modules/\n');
  writeFileSync(
    join(repo, 'package.json'),
    '{ "type": "module", "scripts": { "test": "node --test test/" } }\n',
  );
  writeFileSync(
    join(repo, 'test', 'smoke.test.js'),
    "import { test } from 'node:test';\ntest('loads', async () => { await import('../calc.js'); });\n",
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo }).toString().trim();
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'calc');
  const task = {
    repo: 'acme/calc',
    instance_id: 'acme__calc-1',
    base_commit: git('rev-parse', 'HEAD'),
    patch: 'diff --git a/calc.js b/calc.js\n',
    test_patch: [
      'diff --git a/test/mul.test.js b/test/mul.test.js',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/test/mul.test.js',
      '@@ -0,0 +1,4 @@',
      "+import { test } from 'node:test';",
      "+import assert from 'node:assert/strict';",
      "+import { mul } from '../calc.js';",
      "+test('mul works', () => assert.equal(mul(2, 3), 6));",
      '',
    ].join('\n'),
    problem_statement: 'mul() is wrong\n\nmul(2, 3) should be 6.\n',
    hints_text: '',
    created_at: '2026-11-01T00:00:00Z',
    version: '1.0',
    FAIL_TO_PASS: '["mul works"]',
    PASS_TO_PASS: '["loads"]',
    environment_setup_commit: git('rev-parse', 'HEAD'),
  };
  writeFileSync(join(root, 'tasks.jsonl'), `${JSON.stringify(task)}\n`);
  writeFileSync(join(root, 'prices.json'), JSON.stringify({ models: PRICES }));
  const config = (name: string, models: Record<string, string>, budgets = '') =>
    writeFileSync(
      join(root, `${name}.yml`),
      `models:\n${Object.entries(models)
        .map(([role, list]) => `  ${role}: ${list}\n`)
        .join('')}${budgets}`,
    );
  const base = {
    planner: 'openai:fake-weak',
    coder: 'openai:fake-weak',
    reviewer: 'openai:fake-weak',
    oracle: 'openai:fake-oracle',
  };
  config('oracle', base);
  config('no-oracle', base, 'budgets:\n  maxOracleCalls: 0\n');
  config('cheap-review', { ...base, reviewer: 'openai:fake-cheap' });
  config('cheap-plan', { ...base, planner: 'openai:fake-cheap' });
  server = await startFakeModelServer({ handler });
});

afterAll(async () => {
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describeDocker('droidworks eval (CLI)', () => {
  it('runs a SWE-bench file with one local task, resumes after Ctrl-C, reports, and recommends per role', async () => {
    const env = bareEnv({
      OPENAI_API_KEY: 'sk-test-openai-key',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      DROIDWORKS_PRICES_FILE: join(root, 'prices.json'),
      DROIDWORKS_DATA_DIR: join(root, 'data'),
      DROIDWORKS_SANDBOX_MEMORY_MB: '512',
      LOG_LEVEL: 'warn',
    });
    const args = [
      'eval',
      'run',
      '--tasks',
      'tasks.jsonl',
      ...['oracle', 'no-oracle', 'cheap-review', 'cheap-plan'].flatMap((c) => ['--config', `${c}.yml`]),
      '--repos-dir',
      'mirrors',
    ];
    const out = join(root, 'data', 'eval');
    const resultLines = () =>
      existsSync(join(out, 'results.jsonl'))
        ? readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean)
        : [];

    // Interrupted (Ctrl-C) once the first result is stored.
    const first = spawnCli([...args, '--concurrency', '1'], { cwd: root, env });
    await waitFor('the first result', () => first.output().stderr.includes('[1/4]'), 240_000);
    first.child.kill('SIGINT');
    const interrupted = await first.done;
    expect(interrupted.stderr).toMatch(/interrupted: [1-3] of 4 results are stored in .*results\.jsonl/);
    expect(interrupted.code).toBe(130);
    const stored = resultLines();
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(stored.length).toBeLessThan(4);

    // Run again: only what was missing runs; the stored results stay as they were.
    const run = await runCli([...args, '--concurrency', '2'], { cwd: root, env });
    expect(run.stderr).toContain('[4/4]');
    expect(run.code).toBe(0);
    // The table: the oracle configs resolve the task, the coder alone does not.
    expect(run.stdout).toMatch(/^oracle +1\/1 +100% \(/m);
    expect(run.stdout).toMatch(/^no-oracle +0\/1 +0% \(/m);
    expect(run.stdout).toContain('acme__calc-1: oracle, cheap-review, cheap-plan');
    // Nobody saw the hidden test; the oracle got the file it asked about.
    expect(server.requests.some((r) => JSON.stringify(r.body).includes('assert.equal'))).toBe(false);
    const lines = resultLines();
    expect(lines.slice(0, stored.length)).toEqual(stored);
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { config: string }).config)).size).toBe(4);
    const oracleCalls = server.requests.filter((r) => r.model === 'fake-oracle');
    expect(JSON.stringify(oracleCalls[0]!.body)).toContain('return a + b;');
    // The no-oracle config's coder is not offered the tool.
    const coderCalls = server.requests.filter((r) => r.toolNames.includes('str_replace_based_edit_tool'));
    expect(coderCalls.some((r) => !r.toolNames.includes('ask_oracle'))).toBe(true);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as EvalReport;
    const byName = Object.fromEntries(report.configs.map((c) => [c.config, c]));
    // oracle: plan, ask (coder), oracle, edit, finish, review = 5 calls of USAGE, one of REVIEW_USAGE.
    const cost = (model: keyof typeof PRICES, u: typeof USAGE) =>
      (u.inputTokens * PRICES[model].input + u.outputTokens * PRICES[model].output) / 1e6;
    const oracleCost =
      cost('fake-weak', USAGE) * 4 + cost('fake-oracle', USAGE) + cost('fake-weak', REVIEW_USAGE);
    expect(byName.oracle!.costPerResolvedUsd).toBeCloseTo(oracleCost, 10);
    expect(byName.oracle!.oracleCalls).toBe(1);
    expect(byName['no-oracle']).toMatchObject({ resolved: 0, oracleCalls: 0, costPerResolvedUsd: null });
    expect(byName['cheap-review']!.costPerTaskUsd).toBeCloseTo(
      oracleCost - cost('fake-weak', REVIEW_USAGE) + cost('fake-cheap', REVIEW_USAGE),
      10,
    );
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<circle /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);

    // Run again: every result is stored, so no model is called.
    const before = server.requests.length;
    const again = await runCli(args, { cwd: root, env });
    expect(again.code).toBe(0);
    expect(server.requests.length).toBe(before);

    const recommend = await runCli(
      ['eval', 'recommend', '--report', join(out, 'report.json'), '--per-role'],
      { cwd: root, env },
    );
    expect(recommend.code).toBe(0);
    // cheap-review saves the most; cheap-plan shows the planner can be cheap too, losing nothing.
    expect(recommend.stdout).toContain('# cheap-review: resolves 100%');
    expect(recommend.stdout).toContain(
      '# planner: openai:fake-cheap instead of openai:fake-weak (cheap-plan vs oracle',
    );
    expect(recommend.stdout.split('\n').filter((l) => l.startsWith('DROIDWORKS_'))).toEqual([
      'DROIDWORKS_MODEL_PLANNER=openai:fake-cheap',
      'DROIDWORKS_MODEL_CODER=openai:fake-weak',
      'DROIDWORKS_MODEL_REVIEWER=openai:fake-cheap',
      'DROIDWORKS_MODEL_ORACLE=openai:fake-oracle',
    ]);
    expect(existsSync(join(out, 'results.jsonl'))).toBe(true);
  }, 480_000);
});
