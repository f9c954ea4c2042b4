import type { ModelMessage, ToolCall } from '../models/types.js';

/** One step of the loop as remembered: the model's reply and what its tool calls returned. */
export interface StepRecord {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly results: ReadonlyArray<{
    readonly callId: string;
    readonly content: string;
    readonly isError: boolean;
    /** One line standing in for `content` once the step is old. */
    readonly summary: string;
  }>;
  /** A user message after the results (the nudge). */
  readonly followUp?: string;
}

export interface HistoryOptions {
  /** The latest steps sent verbatim. @defaultValue 6 */
  readonly keepRecent?: number;
  /** Older steps sent with one-line results; beyond these, steps are dropped. @defaultValue 40 */
  readonly keepSummarised?: number;
}

const MAX_OLD_ARG = 160;
const MAX_OLD_TEXT = 400;
const MAX_DROPPED_NOTE = 1500;

/**
 * The messages for the next request, with growth bounded: the last `keepRecent` steps verbatim,
 * `keepSummarised` before them with results replaced by their summaries and long arguments elided,
 * and anything older dropped behind one short note. Tool call/result pairs stay intact.
 */
export function buildHistory(
  first: string,
  steps: readonly StepRecord[],
  options: HistoryOptions = {},
): ModelMessage[] {
  const keepRecent = options.keepRecent ?? 6;
  const keepSummarised = options.keepSummarised ?? 40;
  const firstKept = Math.max(0, steps.length - keepRecent - keepSummarised);
  const firstFull = Math.max(0, steps.length - keepRecent);
  const messages: ModelMessage[] = [{ role: 'user', content: first }];
  if (firstKept > 0) {
    let note = steps
      .slice(0, firstKept)
      .flatMap((s) => s.results.map((r) => r.summary))
      .join('\n');
    if (note.length > MAX_DROPPED_NOTE) note = `…${note.slice(note.length - MAX_DROPPED_NOTE)}`;
    messages.push({
      role: 'user',
      content: `[${firstKept} earlier steps were dropped from this conversation to save space. Their results, in brief:\n${note}]`,
    });
  }
  for (let i = firstKept; i < steps.length; i++) {
    const step = steps[i] as StepRecord;
    const full = i >= firstFull;
    messages.push({
      role: 'assistant',
      text: full || step.text.length <= MAX_OLD_TEXT ? step.text : `${step.text.slice(0, MAX_OLD_TEXT)}…`,
      toolCalls: full ? step.toolCalls : step.toolCalls.map(elideArguments),
    });
    if (step.results.length)
      messages.push({
        role: 'tool',
        results: step.results.map((r) => ({
          callId: r.callId,
          content: full ? r.content : `[older output elided] ${r.summary}`,
          isError: r.isError,
        })),
      });
    if (step.followUp) messages.push({ role: 'user', content: step.followUp });
  }
  return messages;
}

function elideArguments(call: ToolCall): ToolCall {
  let args: Record<string, unknown>;
  if (typeof call.arguments === 'string') {
    if (call.arguments.length <= MAX_OLD_ARG) return call;
    try {
      args = JSON.parse(call.arguments) as Record<string, unknown>;
    } catch {
      // Malformed arguments stay malformed; only their length matters here.
      return { ...call, arguments: `${call.arguments.slice(0, MAX_OLD_ARG)}…` };
    }
  } else args = { ...call.arguments };
  let changed = false;
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === 'string' && v.length > MAX_OLD_ARG) {
      args[k] = `${v.slice(0, 80)}… [${v.length - 80} characters elided]`;
      changed = true;
    }
  }
  if (!changed) return call;
  return { ...call, arguments: typeof call.arguments === 'string' ? JSON.stringify(args) : args };
}
