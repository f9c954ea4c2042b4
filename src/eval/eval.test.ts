import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import {
  fakeReply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../../test/support/fake-model-server.js';
import { loadConfig, MODEL_ROLES } from '../config/load-config.js';
import { createModelRouter } from '../models/router.js';
import { createSandboxProvider } from '../sandbox/create-sandbox-provider.js';
import type { SandboxProvider } from '../sandbox/types.js';
import { createLogger } from '../util/logger.js';
import { parseEvalConfig } from './eval-config.js';
import { ResultsStore } from './results-store.js';
import { runEval } from './run-eval.js';
import type { RunTaskDeps } from './run-task.js';
import { renderHtml, renderTable } from './render-report.js';
import { modelEnvLines, recommend, summarize } from './summarize.js';
import { readTasks } from './task-file.js';

// `droidworks eval` end to end on a local repository: real git, real Docker sandboxes, the real
// OpenAI SDK against the fake model server (scripted as a strong and a weak coder).

let root: string;
let server: FakeModelServer;
let sandboxes: SandboxProvider;
let deps: RunTaskDeps;
let baseCommit: string;

const PRICES = { input: 2, output: 8, cachedInput: 0.5 };
const USAGE = { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 0 };
const perCall = (1000 * PRICES.input + 200 * PRICES.output) / 1e6;

/**
 * The scripted models. Coder: "strong" fixes whichever function the task names, "weak" only add();
 * strong's first mul() fix has a syntax error that the repository's own test catches (the test
 * step sends it back), and its second round repairs it. Reviewer: "weak" asks once for a comment
 * saying what was fixed, and the coder's next round adds it; "strong" approves.
 */
function handler(request: RecordedRequest) {
  const text = JSON.stringify(request.body);
  const edit = (old_str: string, new_str: string) =>
    fakeReply.tool(
      'str_replace_based_edit_tool',
      { command: 'str_replace', path: 'calc.js', old_str, new_str },
      { usage: USAGE },
    );
  if (text.includes('Write the plan')) return fakeReply.text('- fix the function', { usage: USAGE });
  if (text.includes('You review a change')) {
    const wantsComment = request.model === 'fake-weak' && !text.includes('// fixed');
    return fakeReply.text(
      wantsComment ? 'VERDICT: changes\n- say what was fixed in a comment' : 'VERDICT: approve',
      { usage: USAGE },
    );
  }
  const fn = text.includes('mul() is wrong') ? 'mul' : 'add';
  const turns = (request.body.messages as Array<{ role: string }>).filter(
    (m) => m.role === 'assistant',
  ).length;
  const feedback = text.includes('Feedback from the previous round');
  const canFix = request.model === 'fake-strong' || fn === 'add';
  if (turns === 0 && feedback && text.includes('say what was fixed'))
    return edit('return a + b;', 'return a + b; // fixed');
  if (turns === 0 && feedback && fn === 'mul') return edit('return a * b);', 'return a * b;');
  if (turns === 0 && !feedback && canFix)
    return fn === 'add'
      ? edit('add(a, b) {\n  return a - b;', 'add(a, b) {\n  return a + b;')
      : edit('mul(a, b) {\n  return a + b;', 'mul(a, b) {\n  return a * b);');
  return fakeReply.tool('finish', { summary: 'done' }, { usage: USAGE });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dw-eval-'));
  const repo = join(root, 'repos', 'acme', 'calc');
  mkdirSync(join(repo, 'test'), { recursive: true });
  writeFileSync(
    join(repo, 'calc.js'),
    'export function add(a, b) {\n  return a - b;\n}\nexport function mul(a, b) {\n  return a + b;\n}\n',
  );
  // The detected install (`npm install`) writes a lockfile: not part of anyone's change.
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
  baseCommit = git('rev-parse', 'HEAD');

  const testPatch = (fn: string, want: string) =>
    [
      `diff --git a/test/${fn}.test.js b/test/${fn}.test.js`,
      'new file mode 100644',
      '--- /dev/null',
      `+++ b/test/${fn}.test.js`,
      '@@ -0,0 +1,4 @@',
      "+import { test } from 'node:test';",
      "+import assert from 'node:assert/strict';",
      `+import { ${fn} } from '../calc.js';`,
      `+test('${fn} works', () => assert.equal(${fn}(2, 3), ${want}));`,
      '',
    ].join('\n');
  const task = (fn: string, want: string) => ({
    instance_id: `acme__calc-${fn}`,
    repo: 'acme/calc',
    base_commit: baseCommit,
    problem_statement: `${fn}() is wrong\n\n${fn}(2, 3) should be ${want}.`,
    test_patch: testPatch(fn, want),
    patch: '',
    FAIL_TO_PASS: JSON.stringify([`${fn} works`]),
    PASS_TO_PASS: ['loads'],
  });
  writeFileSync(
    join(root, 'tasks.jsonl'),
    `${JSON.stringify(task('add', '5'))}\n${JSON.stringify(task('mul', '6'))}\n`,
  );
  writeFileSync(
    join(root, 'prices.json'),
    JSON.stringify({
      models: { 'fake-strong': PRICES, 'fake-weak': { input: 1, output: 4, cachedInput: 0.25 } },
    }),
  );

  server = await startFakeModelServer({ handler });
  const config = loadConfig({
    OPENAI_API_KEY: 'sk-test-openai-key',
    OPENAI_BASE_URL: server.openaiBaseUrl,
    DROIDWORKS_PRICES_FILE: join(root, 'prices.json'),
  });
  sandboxes = createSandboxProvider(
    { ...config.sandbox, memoryMb: 512 },
    {
      logger: createLogger({ level: 'silent' }),
      workRoot: join(root, 'sandboxes'),
      namespace: `eval-test-${process.pid}`,
    },
  );
  deps = {
    sandboxes,
    models: createModelRouter(
      {
        ...config.models,
        roles: Object.fromEntries(
          MODEL_ROLES.map((r) => [r, [{ provider: 'openai', model: 'fake-strong' }]]),
        ) as never,
      },
      { retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 0 } },
    ),
    config: { ...config, budgets: { ...config.budgets, maxOracleCalls: 0 } },
    sourceOf: (repo) => join(root, 'repos', repo),
    secrets: ['sk-test-openai-key'],
  };
});

afterAll(async () => {
  await sandboxes?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const configFor = (model: string) =>
  parseEvalConfig(
    `models:\n  planner: openai:${model}\n  coder: openai:${model}\n  reviewer: openai:${model}\n`,
    `${model.replace('fake-', '')}.yml`,
  );
const strong = () => configFor('fake-strong');
const weak = () => configFor('fake-weak');

describeDocker('droidworks eval', () => {
  it('scores two configs on hidden tests, reports cost per resolved task, recommends, and resumes', async () => {
    const tasks = await readTasks(join(root, 'tasks.jsonl'));
    expect(tasks.map((t) => t.FAIL_TO_PASS)).toEqual([['add works'], ['mul works']]);
    const store = new ResultsStore(join(root, 'out', 'results.jsonl'));
    const configs = [strong(), weak()];

    const results = await runEval(deps, { tasks, configs, store, concurrency: 2 });
    expect(
      results.map((r) => [
        r.config,
        r.instanceId,
        r.resolved,
        r.error,
        r.runError,
        r.codeRounds,
        r.reviewRounds,
      ]),
    ).toEqual([
      ['strong', 'acme__calc-add', true, undefined, undefined, 1, 1],
      // The repository's own test caught the syntax error; the test step sent it back to the coder.
      ['strong', 'acme__calc-mul', true, undefined, undefined, 2, 1],
      // The reviewer asked for changes once; the coder's second round satisfied it.
      ['weak', 'acme__calc-add', true, undefined, undefined, 2, 2],
      // Nothing changed: no review (an empty diff), and the hidden test fails.
      ['weak', 'acme__calc-mul', false, undefined, undefined, 1, 0],
    ]);
    expect(results.map((r) => r.steps)).toEqual([2, 4, 4, 1]);
    expect(results.map((r) => r.stopReason)).toEqual(['finished', 'finished', 'finished', 'finished']);
    // The hidden test really ran and failed for the weak config's mul().
    expect(results[3]!.failedTests.join()).toContain('mul works');
    // The droid never saw the test patch.
    expect(server.requests.some((r) => JSON.stringify(r.body).includes('assert.equal'))).toBe(false);

    const report = summarize(results, configs);
    const [s, w] = report.configs;
    expect([s!.resolveRate, w!.resolveRate]).toEqual([1, 0.5]);
    // strong: add = plan, edit, finish, review (4 calls); mul = plan, edit, finish, edit, finish,
    // review (6 calls): 10 calls at fake-strong prices over 2 tasks, both resolved.
    expect(s!.costPerTaskUsd).toBeCloseTo(5 * perCall, 10);
    expect(s!.costPerResolvedUsd).toBeCloseTo(5 * perCall, 10);
    const weakCall = (1000 * 1 + 200 * 4) / 1e6;
    // weak: add = plan, edit, finish, review, edit, finish, review (7 calls); mul = plan, finish.
    expect(w!.costPerTaskUsd).toBeCloseTo(4.5 * weakCall, 10);
    expect(w!.costPerResolvedUsd).toBeCloseTo(9 * weakCall, 10);
    expect([s!.tokensPerTask, w!.tokensPerTask]).toEqual([5 * 1200, 4.5 * 1200]);
    expect([s!.stepsPerTask, w!.stepsPerTask]).toEqual([3, 2.5]);
    expect(s!.interval[0]).toBeLessThan(1);
    expect(report.tasks).toEqual([
      { instanceId: 'acme__calc-add', solvedBy: ['strong', 'weak'] },
      { instanceId: 'acme__calc-mul', solvedBy: ['strong'] },
    ]);
    expect(renderHtml(report).match(/<circle /g)).toHaveLength(2);
    expect(renderTable(report)).toMatch(/^weak +1\/2 +50% \(/m);
    expect(recommend(report, 0.05)?.config).toBe('strong');
    expect(recommend(report, 0.6)?.config).toBe('weak');
    expect(modelEnvLines(report, 'strong')).toEqual([
      'DROIDWORKS_MODEL_PLANNER=openai:fake-strong',
      'DROIDWORKS_MODEL_CODER=openai:fake-strong',
      'DROIDWORKS_MODEL_REVIEWER=openai:fake-strong',
    ]);

    // Interrupted before the weak config's mul task was stored: only that one runs again.
    const lines = readFileSync(store.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    const kept = lines.filter((l) => !(l.includes('"acme__calc-mul"') && l.includes('"weak"')));
    writeFileSync(store.path, `${kept.join('\n')}\n{"instanceId": "torn`);
    const before = server.requests.length;
    const again = await runEval(deps, { tasks, configs, store });
    expect(again.map((r) => r.resolved)).toEqual([true, true, true, false]);
    expect(server.requests.length - before).toBe(2); // the weak mul task: plan + finish
  }, 480_000);

  it("stops at the config's budget as a production run would, and counts it as a budget stop", async () => {
    const [task] = await readTasks(join(root, 'tasks.jsonl'));
    // One plan call costs more than the whole budget: the code step refuses to start.
    const broke = parseEvalConfig(
      'models:\n  planner: openai:fake-strong\n  coder: openai:fake-strong\nbudgets:\n  maxCostUsd: 0.001\n',
      'broke.yml',
    );
    const before = server.requests.length;
    const results = await runEval(deps, {
      tasks: [task!],
      configs: [broke],
      store: new ResultsStore(join(root, 'out-broke', 'results.jsonl')),
    });
    expect(server.requests.length - before).toBe(1);
    expect(results).toMatchObject([
      {
        resolved: false,
        stopReason: 'max_cost',
        runError: "the run's cost budget is used up",
        codeRounds: 0,
        steps: 0,
      },
    ]);
    expect(results[0]!.costUsd).toBeCloseTo(perCall, 10);
    expect(summarize(results, [broke]).configs[0]).toMatchObject({
      budgetStops: 1,
      failedRuns: 1,
      errors: 0,
      resolveRate: 0,
    });
  }, 240_000);

  it("runs the repository's own resolve workflow and settings at the base commit", async () => {
    const repo = join(root, 'repos', 'acme', 'custom');
    execFileSync('git', ['clone', '-q', join(root, 'repos', 'acme', 'calc'), repo]);
    mkdirSync(join(repo, '.droidworks', 'workflows'), { recursive: true });
    // No plan, no review: only code and test. The settings name the test command (no install).
    writeFileSync(
      join(repo, '.droidworks', 'workflows', 'resolve-issue.md'),
      [
        '---',
        'description: code and test only',
        'trigger: { label: $triggerLabel }',
        'on: issue',
        'permissions: [comment, push, open_pr]',
        'steps:',
        '  - step: checkout',
        '  - step: code',
        '  - step: test',
        '  - step: publish',
        '---',
        'Custom guidance: keep the change tiny.',
        '',
      ].join('\n'),
    );
    writeFileSync(join(repo, '.droidworks.yml'), 'test: node --test test/\ntestRounds: 1\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo }).toString().trim();
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'own workflow');
    const [add] = await readTasks(join(root, 'tasks.jsonl'));
    const task = {
      ...add!,
      instance_id: 'acme__custom-add',
      repo: 'acme/custom',
      base_commit: git('rev-parse', 'HEAD'),
    };

    const before = server.requests.length;
    const results = await runEval(deps, {
      tasks: [task],
      configs: [strong()],
      store: new ResultsStore(join(root, 'out-custom', 'results.jsonl')),
    });
    expect(results).toMatchObject([{ resolved: true, codeRounds: 1, reviewRounds: 0, steps: 2 }]);
    const mine = server.requests.slice(before).map((r) => JSON.stringify(r.body));
    expect(mine).toHaveLength(2); // edit, finish: no planner, no reviewer
    expect(mine[0]).toContain('Custom guidance: keep the change tiny.');
  }, 240_000);

  it('names every bad line of a task file', async () => {
    writeFileSync(join(root, 'bad.jsonl'), '{"instance_id": "x"}\nnot json\n');
    await expect(readTasks(join(root, 'bad.jsonl'))).rejects.toThrow(
      /line 1: repo.*[\s\S]*line 2: is not JSON/,
    );
  });
});
