import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load-config.js';
import { DEFAULT_REPO_CONFIG, parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import type { RunEvent } from '../ledger/index.js';
import { initialRunState, type RunContext, type RunServices } from '../engine/run-context.js';
import { runSteps } from '../engine/run-steps.js';
import type { ModelRouter } from '../models/router.js';
import { ModelError } from '../models/types.js';
import { detectTestCommand } from '../sandbox/detect-test-command.js';
import { runTests } from '../sandbox/run-tests.js';
import type { SandboxProvider } from '../sandbox/types.js';
import { STEP_IMPLS } from '../steps/index.js';
import { runBudgets } from '../steps/run-budgets.js';
import { createLogger, type Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { builtinWorkflowsDir, loadWorkflows } from '../workflows/load-workflows.js';
import type { WorkflowDefinition } from '../workflows/parse-workflow.js';
import { sandboxRequestFor } from '../steps/checkout.js';
import { applyPatch, checkoutAt, hostGit, patchPaths, readFileAt, resetToBase } from './checkout.js';
import type { EvalConfig } from './eval-config.js';
import { headlessWorkspace, refusing } from './headless.js';
import type { EvalTask } from './task-file.js';

/** What one (task, config, repeat) came to. One line of the results file. */
export interface TaskResult {
  readonly instanceId: string;
  readonly config: string;
  readonly configHash: string;
  readonly repeat: number;
  readonly resolved: boolean;
  /** Why the task could not be attempted or scored (clone, patch, no test command), if so. */
  readonly error?: string;
  /**
   * Why the resolve workflow failed (a step failed: model outage, budget used up before a coding
   * round…). Such a run would have opened no pull request, so it is not resolved.
   */
  readonly runError?: string;
  /** How the coding loop stopped (`finished`, `max_cost`, …). */
  readonly stopReason?: string;
  /** Agent steps (model calls of the coder's tool loop) over every coding round. */
  readonly steps: number;
  /** Coding rounds (1 + test failures and review findings sent back to the coder). */
  readonly codeRounds?: number;
  readonly reviewRounds?: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly costKnown: boolean;
  readonly durationMs: number;
  readonly oracleCalls: number;
  readonly modelErrors: number;
  readonly failovers: number;
  /** Tests that still failed after the hidden test patch was applied. */
  readonly failedTests: readonly string[];
}

export interface RunTaskDeps {
  /** The server's configuration: its budgets and oracle cap are ceilings a config can only lower. */
  readonly config: Config;
  readonly sandboxes: SandboxProvider;
  readonly models: ModelRouter;
  /** Where `owner/name` is cloned from (a local path or URL). */
  readonly sourceOf: (repo: string) => string;
  /** Overrides the repository's test command (`.droidworks.yml` `test:` or the detected one). */
  readonly testCommand?: string;
  readonly secrets: readonly (string | undefined)[];
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/** The workflow every task runs. */
export const EVAL_WORKFLOW = 'resolve-issue';
/**
 * The workflow's steps an evaluation runs through the engine. `checkout` is done by the evaluation
 * itself (a clone at `base_commit`, no GitHub); `publish`, `report` and any other step are left
 * out: an evaluation never writes to GitHub.
 */
export const EVAL_STEPS: ReadonlySet<string> = new Set(['plan', 'approve', 'code', 'test', 'review']);

const BUDGET_STOPS = new Set(['max_steps', 'max_tokens', 'max_cost', 'timeout']);
const EXHAUSTED_REASON: Record<string, string> = { token: 'max_tokens', cost: 'max_cost', time: 'timeout' };

/**
 * Runs one task headless with the resolve workflow's own steps: a fresh sandbox with the
 * repository at `base_commit` (the test patch is not visible; its `.droidworks.yml` and
 * `.droidworks/workflows/` at that commit apply), then `plan → code → test → review` (or the
 * repository's own resolve workflow) through the engine's step runner, with its loops (failing tests and review findings go back to
 * the coder), budgets and oracle cap as in production, and GitHub replaced by a host that refuses
 * every call. Then the hidden test patch is applied over the droid's change (the files it touches
 * reset to the base first) and the tests run: resolved when they pass, or when the only failures
 * are tests outside FAIL_TO_PASS and PASS_TO_PASS. Never throws for a failed attempt.
 */
export async function runTask(
  deps: RunTaskDeps,
  task: EvalTask,
  config: EvalConfig,
  repeat: number,
): Promise<TaskResult> {
  const started = performance.now();
  const queuedAt = Date.now();
  const events: RunEvent[] = [];
  const signal = deps.signal ?? new AbortController().signal;
  const secrets = deps.secrets.filter((s): s is string => typeof s === 'string' && s !== '');
  const runId = `eval-${config.hash}-${repeat}-${task.instance_id}`.replace(/[^\w.-]/g, '_').slice(0, 120);
  const state = initialRunState();
  const base = { instanceId: task.instance_id, config: config.name, configHash: config.hash, repeat };
  let runError: unknown;
  let ctx: RunContext | undefined;
  const outcome = (extra: Partial<TaskResult>): TaskResult => {
    const finished = events.filter((e) => e.type === 'agent.finished');
    const exhausted = runError !== undefined && ctx ? runBudgets(ctx).exhausted : undefined;
    return {
      ...base,
      resolved: false,
      ...(runError !== undefined ? { runError: describe(runError, secrets) } : {}),
      stopReason: exhausted
        ? EXHAUSTED_REASON[exhausted]
        : (state.agent?.reason ?? (finished.at(-1)?.reason as string | undefined)),
      steps: finished.reduce((n, e) => n + (typeof e.steps === 'number' ? e.steps : 0), 0),
      codeRounds: state.codeRounds,
      reviewRounds: state.reviewRounds,
      tokens: state.tokens,
      // Unknown prices: the priced calls' part.
      costUsd:
        state.costUsd ??
        events.reduce(
          (n, e) => n + (e.type === 'agent.model' && typeof e.costUsd === 'number' ? e.costUsd : 0),
          0,
        ),
      costKnown: state.costUsd !== null,
      durationMs: Math.round(performance.now() - started),
      oracleCalls: state.oracleCalls ?? 0,
      modelErrors:
        events.filter((e) => e.type === 'agent.model' && e.error !== undefined).length +
        (runError instanceof ModelError ? 1 : 0),
      failovers: events.filter((e) => e.type === 'model.fallback').length,
      failedTests: [],
      ...extra,
    };
  };

  const source = deps.sourceOf(task.repo);
  let repoConfig: RepoConfig;
  let workflow: WorkflowDefinition;
  try {
    repoConfig = evalRepoConfig(
      existsSync(source) ? await repoConfigAt(source, task.base_commit, signal) : DEFAULT_REPO_CONFIG,
      config,
      deps.testCommand,
    );
    workflow = await resolveWorkflow(
      existsSync(source) ? await workflowFilesAt(source, task.base_commit, signal) : [],
      deps.logger,
    );
  } catch (err) {
    return outcome({ error: `cannot read the settings at ${task.base_commit}: ${describe(err, secrets)}` });
  }

  state.sandbox = await deps.sandboxes.acquire(sandboxRequestFor(repoConfig, runId, signal));
  const sandbox = state.sandbox;
  const dir = sandbox.workspaceDir;
  try {
    try {
      await checkoutAt(source, dir, task.base_commit, signal);
      for (const command of repoConfig.install) {
        const result = await sandbox.exec(command, { signal });
        if (result.exitCode !== 0)
          throw new Error(`the install command \`${command}\` exited with code ${result.exitCode}`);
      }
    } catch (err) {
      return outcome({
        error: `cannot check out ${task.repo} at ${task.base_commit}: ${describe(err, secrets)}`,
      });
    }
    const [title = task.instance_id, ...rest] = task.problem_statement.split('\n');
    state.issue = { title: title.slice(0, 200), body: rest.join('\n').trim(), comments: [] };
    state.workspace = headlessWorkspace(runId, dir, task.base_commit);

    const githubCalls: string[] = [];
    const sink = { emit: async (e: RunEvent) => void events.push(e) };
    const log = (deps.logger ?? createLogger({ level: 'silent' })).child({ runId, eval: true });
    const services: RunServices = {
      config: deps.config,
      logger: log,
      github: refusing('GitHub', githubCalls),
      models: deps.models,
      sandboxes: deps.sandboxes,
      workspaces: refusing('the workspace manager', githubCalls),
      ledger: refusing('the run ledger', githubCalls),
      repoSetup: () => Promise.reject(new Error('an evaluation run reads its settings from the checkout')),
      secrets,
    };
    ctx = {
      services,
      job: {
        runId,
        workflow: workflow.name,
        repo: { owner: task.repo.split('/')[0]!, name: task.repo.split('/')[1]! },
        subject: { type: 'issue', number: 1, title: state.issue.title },
        requestedBy: 'droidworks-eval',
        queuedAt,
      },
      runId,
      workflow,
      repoConfig,
      signal,
      log,
      sink,
      state,
      progress: () => Promise.resolve(),
    };
    try {
      await runSteps({
        steps: workflow.steps
          .filter((s) => EVAL_STEPS.has(s.step))
          .map((s) => ({
            name: s.step,
            options: { ...s.with, ...(s.role ? { role: s.role } : {}) },
            retries: s.retries,
            if: s.if,
          })),
        impls: STEP_IMPLS,
        ctx,
        sink,
        signal,
        maxLoops: repoConfig.testRounds + 2,
        retryDelayMs: () => 200,
      });
    } catch (err) {
      runError = err;
    }
    signal.throwIfAborted();
    if (runError !== undefined) return outcome({});

    const patchDir = await mkdtemp(join(tmpdir(), 'dw-eval-patch-'));
    try {
      await resetToBase(dir, task.base_commit, patchPaths(task.test_patch), signal);
      await applyPatch(dir, task.test_patch, join(patchDir, 'test.patch'), signal);
    } catch (err) {
      return outcome({
        error: `the hidden test patch does not apply over the droid's change: ${describe(err, secrets)}`,
      });
    } finally {
      await rm(patchDir, { recursive: true, force: true });
    }

    const test = repoConfig.test.length
      ? { test: repoConfig.test.join(' && '), install: undefined }
      : await detectTestCommand((path) => readFile(join(dir, path), 'utf8').catch(() => undefined));
    if (!test) return outcome({ error: 'no test command: pass --test-command' });
    const report = await runTests(sandbox, { test: test.test, install: test.install, signal });
    const wanted = [...task.FAIL_TO_PASS, ...task.PASS_TO_PASS];
    const failedWanted = report.failedTests.filter((f) => wanted.some((w) => f.includes(w) || w.includes(f)));
    const resolved =
      report.passed || (!report.timedOut && report.failedTests.length > 0 && failedWanted.length === 0);
    return outcome({ resolved, failedTests: report.failedTests.slice(0, 50) });
  } finally {
    await sandbox.release();
  }
}

/**
 * The repository's `.droidworks.yml` as an evaluation uses it: the config's model lists on top of
 * the repository's, its budgets lowering the repository's, no plan approval, and the test command
 * given on the command line, if any. Pure.
 */
export function evalRepoConfig(repo: RepoConfig, config: EvalConfig, testCommand?: string): RepoConfig {
  const budgets = { ...repo.budgets };
  for (const [key, value] of Object.entries(config.budgets) as Array<[keyof typeof budgets, number]>)
    if (value !== undefined) budgets[key] = Math.min(budgets[key] ?? Infinity, value);
  return {
    ...repo,
    models: { ...repo.models, ...config.roles },
    budgets,
    planApproval: false,
    ...(testCommand ? { test: [testCommand] } : {}),
  };
}

/** `.droidworks.yml` (or `.yaml`) of the repository at `commit`; the defaults when it has none. */
async function repoConfigAt(source: string, commit: string, signal: AbortSignal): Promise<RepoConfig> {
  for (const path of ['.droidworks.yml', '.droidworks.yaml']) {
    const text = await readFileAt(source, commit, path, signal);
    if (text !== undefined) return parseRepoConfig(text, path);
  }
  return DEFAULT_REPO_CONFIG;
}

/** The repository's own workflow files (`.droidworks/workflows/`) at `commit`. */
async function workflowFilesAt(
  source: string,
  commit: string,
  signal: AbortSignal,
): Promise<Array<{ path: string; content: string }>> {
  const dir = '.droidworks/workflows/';
  const paths = (await hostGit(source, ['ls-tree', '--name-only', commit, '--', dir], signal))
    .split('\n')
    .filter((p) => /\.(ya?ml|md)$/i.test(p));
  return Promise.all(
    paths.map(async (path) => ({
      path,
      content: await hostGit(source, ['show', `${commit}:${path}`], signal),
    })),
  );
}

/**
 * The resolve workflow as production would run it: the repository's own definition when it has a
 * valid one, otherwise the built-in, validated against the engine's step kinds.
 */
async function resolveWorkflow(
  repoFiles: ReadonlyArray<{ path: string; content: string }>,
  logger: Logger | undefined,
): Promise<WorkflowDefinition> {
  const { workflows, problems } = await loadWorkflows({
    builtinDir: builtinWorkflowsDir(),
    repoFiles,
    stepKinds: Object.keys(STEP_IMPLS),
  });
  for (const p of problems.filter((p) => p.name === EVAL_WORKFLOW))
    logger?.warn(
      { source: p.source, problems: p.problems },
      'the repository workflow is invalid; the built-in one runs',
    );
  const workflow = workflows.get(EVAL_WORKFLOW);
  if (!workflow) throw new Error(`the built-in workflow ${EVAL_WORKFLOW} is missing or invalid`);
  return workflow;
}

/** Whether a result counts as stopped by a budget. */
export function budgetStopped(result: TaskResult): boolean {
  return result.stopReason !== undefined && BUDGET_STOPS.has(result.stopReason);
}

/** The innermost cause in plain words, capped and redacted. */
function describe(err: unknown, secrets: readonly string[]): string {
  let inner = err;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  const e = inner as { stderr?: string; message?: string };
  const text = (e.stderr?.trim() || e.message || String(inner)).slice(0, 1000);
  return redact(text, secrets);
}
