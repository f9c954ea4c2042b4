import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BUDGETS, runAgent, type AgentBudgets } from '../agent/run-agent.js';
import { fence } from '../agent/prompt.js';
import type { RunEvent } from '../ledger/index.js';
import type { ModelRouter } from '../models/router.js';
import { detectTestCommand } from '../sandbox/detect-test-command.js';
import { runTests } from '../sandbox/run-tests.js';
import type { SandboxProvider } from '../sandbox/types.js';
import { parsePlan, PLANNER_SYSTEM } from '../steps/plan.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { applyPatch, checkoutAt } from './checkout.js';
import type { EvalConfig } from './eval-config.js';
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
  /** How the coding loop stopped (`finished`, `max_cost`, …). */
  readonly stopReason?: string;
  readonly steps: number;
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
  readonly sandboxes: SandboxProvider;
  readonly models: Pick<ModelRouter, 'complete'>;
  /** The server's budgets and oracle cap: a config can only lower them. */
  readonly budgets: AgentBudgets & { readonly maxOracleCalls: number };
  /** Where `owner/name` is cloned from (a local path or URL). */
  readonly sourceOf: (repo: string) => string;
  /** Overrides the detected test command. */
  readonly testCommand?: string;
  readonly secrets: readonly (string | undefined)[];
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

const BUDGET_STOPS = new Set(['max_steps', 'max_tokens', 'max_cost', 'timeout']);

/**
 * Runs one task headless, the way the resolve workflow would, but without GitHub: a fresh sandbox
 * with the repository at `base_commit`, the planner's plan, the coder's tool loop on the problem
 * statement (the test patch is not visible), then the hidden test patch applied and the tests run.
 * Resolved when the tests pass, or when the only failures are tests outside FAIL_TO_PASS and
 * PASS_TO_PASS. Never throws for a failed attempt: the result says what happened.
 */
export async function runTask(
  deps: RunTaskDeps,
  task: EvalTask,
  config: EvalConfig,
  repeat: number,
): Promise<TaskResult> {
  const started = performance.now();
  const events: RunEvent[] = [];
  const usage = { tokens: 0, costUsd: 0, costKnown: true };
  const base = {
    instanceId: task.instance_id,
    config: config.name,
    configHash: config.hash,
    repeat,
  };
  const limits = lower(deps.budgets, config.budgets);
  const sandbox = await deps.sandboxes.acquire({
    runId: `eval-${config.hash}-${repeat}-${task.instance_id}`.slice(0, 120),
    signal: deps.signal,
  });
  const dir = sandbox.workspaceDir;
  const outcome = (extra: Partial<TaskResult>): TaskResult => ({
    ...base,
    resolved: false,
    steps: 0,
    tokens: usage.tokens,
    costUsd: usage.costUsd,
    costKnown: usage.costKnown,
    durationMs: Math.round(performance.now() - started),
    oracleCalls: 0,
    modelErrors: events.filter((e) => e.type === 'agent.model' && e.error !== undefined).length,
    failovers: events.filter((e) => e.type === 'model.fallback').length,
    failedTests: [],
    ...extra,
  });
  try {
    try {
      await checkoutAt(deps.sourceOf(task.repo), dir, task.base_commit, deps.signal);
    } catch (err) {
      return outcome({
        error: `cannot check out ${task.repo} at ${task.base_commit}: ${message(err, deps)}`,
      });
    }

    const sink = { emit: async (e: RunEvent) => void events.push(e) };
    let plan: string[] = [];
    try {
      const response = await deps.models.complete(
        'planner',
        {
          system: PLANNER_SYSTEM,
          messages: [
            { role: 'user', content: `${fence('issue', task.problem_statement)}\n\nWrite the plan.` },
          ],
          maxOutputTokens: 1500,
        },
        { signal: deps.signal, sink, roles: config.roles },
      );
      plan = parsePlan(response.text);
      usage.tokens +=
        response.usage.inputTokens + response.usage.outputTokens + response.usage.cachedInputTokens;
      if (response.costUsd === null) usage.costKnown = false;
      else usage.costUsd += response.costUsd;
    } catch (err) {
      events.push({ type: 'agent.model', role: 'planner', error: message(err, deps) });
    }

    const title = task.problem_statement.split('\n')[0]?.slice(0, 200);
    const body = [task.problem_statement, plan.length ? `Plan:\n${plan.map((p) => `- ${p}`).join('\n')}` : '']
      .filter(Boolean)
      .join('\n\n');
    const agent = await runAgent({
      task: { title, body },
      workspace: dir,
      workspaceAliases: ['/workspace'],
      executor: sandbox,
      models: deps.models,
      roles: config.roles,
      budgets: {
        ...limits,
        maxTokens: Math.max(0, limits.maxTokens - usage.tokens),
        maxCostUsd: Math.max(0, limits.maxCostUsd - usage.costUsd),
      },
      oracle: { maxCalls: limits.maxOracleCalls },
      sink,
      signal: deps.signal,
      secrets: deps.secrets,
      logger: deps.logger,
    });
    usage.tokens += agent.usage.inputTokens + agent.usage.outputTokens + agent.usage.cachedInputTokens;
    usage.costUsd += agent.costUsd;
    usage.costKnown &&= agent.costKnown;
    const agentPart = { stopReason: agent.reason, steps: agent.steps, oracleCalls: agent.oracleCalls };

    const patchDir = await mkdtemp(join(tmpdir(), 'dw-eval-patch-'));
    try {
      await applyPatch(dir, task.test_patch, join(patchDir, 'test.patch'), deps.signal);
    } catch (err) {
      return outcome({
        ...agentPart,
        error: `the hidden test patch does not apply over the droid's change: ${message(err, deps)}`,
      });
    } finally {
      await rm(patchDir, { recursive: true, force: true });
    }

    const test =
      deps.testCommand ??
      (await detectTestCommand((path) => readFile(join(dir, path), 'utf8').catch(() => undefined)))?.test;
    if (!test) return outcome({ ...agentPart, error: 'no test command: pass --test-command' });
    const report = await runTests(sandbox, { test, signal: deps.signal });
    const wanted = [...task.FAIL_TO_PASS, ...task.PASS_TO_PASS];
    const failedWanted = report.failedTests.filter((f) => wanted.some((w) => f.includes(w) || w.includes(f)));
    const resolved =
      report.passed || (!report.timedOut && report.failedTests.length > 0 && failedWanted.length === 0);
    return outcome({ ...agentPart, resolved, failedTests: report.failedTests.slice(0, 50) });
  } finally {
    await sandbox.release();
  }
}

/** Budgets of a config: the server's, lowered (never raised) per limit. Pure. */
export function lower(
  server: AgentBudgets & { readonly maxOracleCalls: number },
  config: Partial<AgentBudgets & { maxOracleCalls: number }>,
): AgentBudgets & { readonly maxOracleCalls: number } {
  const min = (a: number, b: number | undefined) => (b === undefined ? a : Math.min(a, b));
  return {
    maxSteps: min(server.maxSteps ?? DEFAULT_BUDGETS.maxSteps, config.maxSteps),
    maxTokens: min(server.maxTokens, config.maxTokens),
    maxCostUsd: min(server.maxCostUsd, config.maxCostUsd),
    maxMinutes: min(server.maxMinutes, config.maxMinutes),
    maxOracleCalls: min(server.maxOracleCalls, config.maxOracleCalls),
  };
}

/** Whether a result counts as stopped by a budget. */
export function budgetStopped(result: TaskResult): boolean {
  return result.stopReason !== undefined && BUDGET_STOPS.has(result.stopReason);
}

function message(err: unknown, deps: RunTaskDeps): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr?.trim() || e.message || String(err)).slice(0, 1000);
  return redact(text, deps.secrets);
}
