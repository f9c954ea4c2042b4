import { realpath } from 'node:fs/promises';
import type { ModelRole } from '../config/load-config.js';
import type { EventSink, RunEvent } from '../ledger/index.js';
import type { ModelRouter, RoleOverrides, RoutedResponse } from '../models/router.js';
import { ModelError, type ModelRequest, type TokenUsage, type ToolCall } from '../models/types.js';
import type { CommandExecutor } from '../sandbox/types.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { buildHistory, type HistoryOptions, type StepRecord } from './history.js';
import { buildTaskMessage, NUDGE, readRepoInstructions, SYSTEM_PROMPT, type AgentTask } from './prompt.js';
import { buildRepoMap } from './repo-map.js';
import type { AgentTool, ToolContext, ToolOutcome } from './tools/agent-tool.js';
import { defaultTools } from './tools/default-tools.js';
import { oracleTool, type OracleQuestion } from './tools/oracle-tool.js';

/** Limits of one run; the first one reached stops it. */
export interface AgentBudgets {
  /** Model calls. @defaultValue 60 */
  readonly maxSteps: number;
  /** Input + output + cached tokens over all calls. @defaultValue 2000000 */
  readonly maxTokens: number;
  /** USD over all calls (calls to unpriced models count 0 and mark the cost unknown). @defaultValue 5 */
  readonly maxCostUsd: number;
  /** Wall-clock minutes (fractions allowed). @defaultValue 30 */
  readonly maxMinutes: number;
}

export const DEFAULT_BUDGETS: AgentBudgets = {
  maxSteps: 60,
  maxTokens: 2_000_000,
  maxCostUsd: 5,
  maxMinutes: 30,
};

export interface RunAgentOptions {
  readonly task: AgentTask | string;
  /** The workspace root on the host (a git checkout); tools cannot leave it. */
  readonly workspace: string;
  /** Runs `bash` tool commands (the run's sandbox). */
  readonly executor: CommandExecutor;
  /** The model router (or anything with its `complete`). */
  readonly models: Pick<ModelRouter, 'complete'>;
  /** @defaultValue `coder` */
  readonly role?: ModelRole;
  /** @defaultValue {@link DEFAULT_BUDGETS} for any limit not given */
  readonly budgets?: Partial<AgentBudgets>;
  /** The run's transcript (its ledger sink). */
  readonly sink?: EventSink;
  /** Cancels the run: the model request in flight is aborted and the running command killed. */
  readonly signal?: AbortSignal;
  /** `.droidworks.yml` `instructions`; otherwise AGENTS.md or CLAUDE.md is read. */
  readonly instructions?: string;
  /** @defaultValue {@link defaultTools} */
  readonly tools?: readonly AgentTool[];
  /** @defaultValue 6000 characters */
  readonly repoMapBudget?: number;
  /** Per model request attempt. @defaultValue 300000 */
  readonly requestTimeoutMs?: number;
  /** Per `bash` command. @defaultValue the executor's own */
  readonly commandTimeoutMs?: number;
  /** Absolute paths that mean the workspace root to the model (where the sandbox mounts it). @defaultValue [] */
  readonly workspaceAliases?: readonly string[];
  /** Context growth limits. */
  readonly history?: HistoryOptions;
  /** @defaultValue 8192 */
  readonly maxOutputTokens?: number;
  /** Secrets to scrub from error messages in events. */
  readonly secrets?: readonly (string | undefined)[];
  readonly logger?: Logger;
  /** The repository's per-role model lists (`.droidworks.yml` `models:`), used before the server's. */
  readonly roles?: RoleOverrides;
  /**
   * Offers `ask_oracle` (the `oracle` role) with this many calls left for the run; its calls are
   * charged to this loop's usage and budgets. @defaultValue no oracle
   */
  readonly oracle?: { readonly maxCalls: number };
}

export type AgentStopReason =
  'finished' | 'max_steps' | 'max_tokens' | 'max_cost' | 'timeout' | 'cancelled' | 'no_progress' | 'error';

/** Where one step's time went; `overheadMs` is the harness's own share. */
export interface StepTiming {
  readonly modelMs: number;
  readonly toolMs: number;
  readonly totalMs: number;
  readonly overheadMs: number;
  /** Size of the request's JSON (system, tools, messages). */
  readonly requestBytes: number;
}

export interface AgentResult {
  readonly reason: AgentStopReason;
  /** The model's `finish` summary. */
  readonly summary?: string;
  /** What went wrong when `reason` is `error`. */
  readonly error?: string;
  /** Model calls made. */
  readonly steps: number;
  readonly usage: TokenUsage;
  /** USD of the priced calls. */
  readonly costUsd: number;
  /** False when some call used a model missing from the price table. */
  readonly costKnown: boolean;
  readonly durationMs: number;
  readonly timings: readonly StepTiming[];
  /** `ask_oracle` calls answered in this loop. */
  readonly oracleCalls: number;
}

/**
 * Runs the tool loop until the model calls `finish` or a budget, cancellation or an error stops
 * it. Never throws for model or tool failures: the result says why it stopped, and the workspace
 * is left as it is. Every step is appended to `sink`: `agent.started`, then per step `agent.model`
 * and one `agent.tool` per call (plus `model.retry` / `model.fallback` from the router and
 * `agent.nudge`), then `agent.finished`.
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentResult> {
  const started = performance.now();
  const budgets: AgentBudgets = { ...DEFAULT_BUDGETS, ...options.budgets };
  const role = options.role ?? 'coder';
  const secrets = options.secrets ?? [];
  const log = options.logger;
  let oracleCalls = 0;
  const baseTools = options.tools ?? defaultTools();
  const tools =
    options.oracle && options.oracle.maxCalls > 0
      ? [
          ...baseTools.filter((t) => t.spec.name !== 'finish'),
          oracleTool({
            ask: (q, s) => askOracle(q, s),
            maxCalls: options.oracle.maxCalls,
            onCall: (n) => (oracleCalls = n),
          }),
          ...baseTools.filter((t) => t.spec.name === 'finish'),
        ]
      : baseTools;
  const byName = new Map(tools.map((t) => [t.spec.name, t]));

  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('run time budget reached'));
  }, budgets.maxMinutes * 60_000);
  const signal = controller.signal;

  const emit = async (event: RunEvent): Promise<void> => {
    if (!options.sink) return;
    try {
      await options.sink.emit(event);
    } catch (err) {
      log?.warn(
        { err, event: event.type },
        'could not append agent event to the transcript; the run goes on',
      );
    }
  };

  const usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  let costUsd = 0;
  let costKnown = true;
  const timings: StepTiming[] = [];
  let step = 0;

  /** Adds a model call's tokens and cost to this loop's usage. */
  const charge = (response: RoutedResponse): void => {
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    usage.cachedInputTokens += response.usage.cachedInputTokens;
    if (response.costUsd === null) costKnown = false;
    else costUsd += response.costUsd;
  };

  /** One oracle call: routed to the `oracle` role, charged to this loop, recorded like a step's call. */
  const askOracle = async (question: OracleQuestion, toolSignal: AbortSignal): Promise<string> => {
    const callStart = performance.now();
    const response = await options.models.complete(
      'oracle',
      {
        system: question.system,
        messages: [{ role: 'user', content: question.prompt }],
        maxOutputTokens: 4096,
      },
      { signal: toolSignal, timeoutMs: options.requestTimeoutMs, sink: options.sink, roles: options.roles },
    );
    charge(response);
    await emit({
      type: 'agent.model',
      step,
      role: 'oracle',
      provider: response.provider,
      model: response.model,
      requestBytes: question.prompt.length + question.system.length,
      ...response.usage,
      costUsd: response.costUsd,
      latencyMs: Math.round(performance.now() - callStart),
      attempts: response.attempts,
      stopReason: response.stopReason,
      text: response.text.slice(0, 2000),
      toolCalls: [],
    });
    return response.text;
  };

  const finish = async (
    reason: AgentStopReason,
    extra: { summary?: string; error?: string } = {},
  ): Promise<AgentResult> => {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    const result: AgentResult = {
      reason,
      ...extra,
      steps: step,
      usage: { ...usage },
      costUsd,
      costKnown,
      durationMs: performance.now() - started,
      timings,
      oracleCalls,
    };
    await emit({
      type: 'agent.finished',
      reason,
      steps: step,
      ...extra,
      ...usage,
      costUsd,
      costKnown,
      durationMs: Math.round(result.durationMs),
    });
    return result;
  };
  const stopReasonForAbort = (): AgentStopReason => (timedOut ? 'timeout' : 'cancelled');

  try {
    const workspace = await realpath(options.workspace);
    const task: AgentTask = typeof options.task === 'string' ? { body: options.task } : options.task;
    const [repoMap, instructions] = await Promise.all([
      buildRepoMap(workspace, { budget: options.repoMapBudget, task: `${task.title ?? ''} ${task.body}` }),
      readRepoInstructions(workspace, options.instructions),
    ]);
    const first = buildTaskMessage({ task, repoMap, instructions });
    const specs = tools.map((t) => t.spec);
    const fixedBytes = JSON.stringify({ system: SYSTEM_PROMPT, tools: specs }).length;
    const ctx: ToolContext = {
      workspace,
      aliases: options.workspaceAliases ?? [],
      executor: options.executor,
      signal,
      commandTimeoutMs: options.commandTimeoutMs,
      editHistory: new Map(),
    };
    const steps: StepRecord[] = [];
    let nudged = false;

    await emit({
      type: 'agent.started',
      role,
      budgets: { ...budgets },
      tools: specs.map((s) => s.name),
      instructions: instructions?.source ?? null,
      repoMapBytes: repoMap.length,
      taskBytes: first.length,
    });

    for (;;) {
      if (signal.aborted) return await finish(stopReasonForAbort());
      if (step >= budgets.maxSteps) return await finish('max_steps');
      if (usage.inputTokens + usage.outputTokens + usage.cachedInputTokens >= budgets.maxTokens)
        return await finish('max_tokens');
      if (costUsd >= budgets.maxCostUsd) return await finish('max_cost');

      step += 1;
      const stepStart = performance.now();
      const messages = buildHistory(first, steps, options.history);
      const request: ModelRequest = {
        system: SYSTEM_PROMPT,
        messages,
        tools: specs,
        maxOutputTokens: options.maxOutputTokens ?? 8192,
      };
      const requestBytes = fixedBytes + JSON.stringify(messages).length;

      let response: RoutedResponse;
      const modelStart = performance.now();
      try {
        response = await options.models.complete(role, request, {
          signal,
          timeoutMs: options.requestTimeoutMs,
          sink: options.sink,
          roles: options.roles,
        });
      } catch (err) {
        const message = redact(err instanceof Error ? err.message : String(err), secrets);
        await emit({
          type: 'agent.model',
          step,
          role,
          requestBytes,
          error: message,
          errorKind: err instanceof ModelError ? err.kind : 'other',
          latencyMs: Math.round(performance.now() - modelStart),
        });
        if (signal.aborted) return await finish(stopReasonForAbort());
        return await finish('error', { error: message });
      }
      const modelMs = performance.now() - modelStart;
      charge(response);

      await emit({
        type: 'agent.model',
        step,
        role,
        provider: response.provider,
        model: response.model,
        requestBytes,
        ...response.usage,
        costUsd: response.costUsd,
        latencyMs: Math.round(response.latencyMs),
        attempts: response.attempts,
        stopReason: response.stopReason,
        text: response.text.slice(0, 2000),
        toolCalls: response.toolCalls.map((c) => ({
          id: c.id,
          name: c.name,
          arguments: preview(c.arguments),
        })),
      });

      if (response.toolCalls.length === 0) {
        steps.push({ text: response.text, toolCalls: [], results: [], followUp: NUDGE });
        const totalMs = performance.now() - stepStart;
        timings.push({ modelMs, toolMs: 0, totalMs, overheadMs: totalMs - modelMs, requestBytes });
        if (nudged) return await finish('no_progress');
        nudged = true;
        await emit({ type: 'agent.nudge', step });
        continue;
      }
      nudged = false;

      let toolMs = 0;
      let summary: string | undefined;
      const results: Array<StepRecord['results'][number]> = [];
      for (const call of response.toolCalls) {
        const toolStart = performance.now();
        const tool = byName.get(call.name);
        let outcome: ToolOutcome;
        if (summary !== undefined) outcome = { ok: false, error: 'not run: finish was already called' };
        else if (!tool)
          outcome = {
            ok: false,
            error: `unknown tool "${call.name}"; the tools are: ${[...byName.keys()].join(', ')}`,
          };
        else outcome = await tool.invoke(call.arguments, ctx);
        const durationMs = performance.now() - toolStart;
        toolMs += durationMs;
        if (outcome.ok && outcome.finish) summary = outcome.finish.summary;
        const content = outcome.ok ? outcome.output : `Error: ${outcome.error}`;
        results.push({ callId: call.id, content, isError: !outcome.ok, summary: summarise(call, outcome) });
        await emit({
          type: 'agent.tool',
          step,
          callId: call.id,
          tool: call.name,
          ok: outcome.ok,
          resultBytes: content.length,
          durationMs: Math.round(durationMs),
          ...(outcome.ok ? {} : { error: redact(outcome.error, secrets).slice(0, 2000) }),
        });
      }
      steps.push({ text: response.text, toolCalls: response.toolCalls, results });
      const totalMs = performance.now() - stepStart;
      timings.push({
        modelMs,
        toolMs,
        totalMs,
        overheadMs: Math.max(0, totalMs - modelMs - toolMs),
        requestBytes,
      });
      if (summary !== undefined) return await finish('finished', { summary });
    }
  } catch (err) {
    // Unexpected failures (workspace unreadable, a bug): the run stops with a reason, not a throw.
    const message = redact(err instanceof Error ? err.message : String(err), secrets);
    log?.error({ err }, 'agent loop failed');
    return await finish(signal.aborted ? stopReasonForAbort() : 'error', { error: message });
  }
}

function preview(args: ToolCall['arguments']): string {
  const text = typeof args === 'string' ? args : JSON.stringify(args);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** One line that stands in for a tool result once it is old. */
function summarise(call: ToolCall, outcome: ToolOutcome): string {
  let args: Record<string, unknown> = {};
  if (typeof call.arguments !== 'string') args = call.arguments;
  else {
    try {
      args = JSON.parse(call.arguments) as Record<string, unknown>;
    } catch {
      // Malformed arguments: the summary just names the tool.
      args = {};
    }
  }
  const what =
    call.name === 'bash'
      ? `bash \`${String(args.command ?? '').slice(0, 80)}\``
      : call.name === 'str_replace_based_edit_tool'
        ? `${String(args.command ?? 'edit')} ${String(args.path ?? '')}`
        : call.name === 'search'
          ? `search ${JSON.stringify(String(args.pattern ?? '')).slice(0, 60)}`
          : call.name;
  if (!outcome.ok) return `${what}: failed (${outcome.error.split('\n')[0]?.slice(0, 100)})`;
  const firstLine = outcome.output.split('\n')[0]?.slice(0, 80) ?? '';
  return `${what}: ${firstLine} (${outcome.output.length} chars)`;
}
