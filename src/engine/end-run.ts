import type { GitHubHost, IssueRef } from '../github/types.js';
import type { Logger } from '../util/logger.js';
import type { RunLedger } from '../ledger/index.js';
import { isRetryable } from './run-failure.js';
import type { FinalRunStatus, RunStatus } from '../ledger/run-status.js';

/** What is known when a run's attempt stops, for {@link decideRunEnd}. */
export interface RunEndInput {
  /** The first error of the attempt (setup or a step), if any. */
  readonly failure?: { readonly error: unknown };
  /** The run was cancelled (its signal aborted). */
  readonly aborted: boolean;
  readonly attempt: { readonly number: number; readonly max: number };
  /** The status steps left in the run's state (the report step sets `failed` for failing tests). */
  readonly status: RunStatus;
}

export type RunEndDecision =
  { readonly action: 'retry' } | { readonly action: 'end'; readonly status: FinalRunStatus };

/**
 * How an attempt ends: another attempt (only for a retryable failure with attempts left), or the
 * run's final status. Pure; the one place this is decided.
 */
export function decideRunEnd(input: RunEndInput): RunEndDecision {
  if (input.aborted) return { action: 'end', status: 'cancelled' };
  if (input.failure) {
    if (input.attempt.number < input.attempt.max && isRetryable(input.failure.error))
      return { action: 'retry' };
    return { action: 'end', status: 'failed' };
  }
  if (input.status === 'failed' || input.status === 'cancelled' || input.status === 'superseded')
    return { action: 'end', status: input.status };
  return { action: 'end', status: 'succeeded' };
}

export interface EndRunDeps {
  readonly ledger: RunLedger;
  readonly github: Pick<GitHubHost, 'addLabels' | 'removeLabel'>;
  readonly log: Logger;
}

export interface RunEnd {
  readonly runId: string;
  readonly issue: IssueRef;
  readonly status: FinalRunStatus;
  /** The failure in plain words (already redacted and bounded). */
  readonly error?: string;
  readonly tokens: number;
  readonly costUsd: number | null;
  readonly pullRequest?: number;
  /** The labels of `.droidworks.yml`; a cancelled run gets neither. Undefined: no label is touched. */
  readonly labels?: { readonly done: string; readonly failed: string };
}

/**
 * The one function that ends a run, on every exit path: the final progress comment (through
 * `writeComment`, which never throws), the `done`/`failed` label, then the ledger's final state and
 * `run.finished`. Labels are best effort (logged); a ledger write that fails throws.
 */
export async function endRun(
  deps: EndRunDeps,
  end: RunEnd,
  writeComment: () => Promise<void>,
): Promise<void> {
  await writeComment();
  if (end.labels && end.status !== 'cancelled') {
    const { done, failed } = end.labels;
    const [add, remove] = end.status === 'succeeded' ? [done, failed] : [failed, done];
    try {
      await deps.github.addLabels(end.issue, [add]);
      await deps.github.removeLabel(end.issue, remove);
    } catch (err) {
      deps.log.warn({ err, runId: end.runId }, 'run end: labels not updated; the run is ended regardless');
    }
  }
  await deps.ledger.setState(end.runId, {
    status: end.status,
    tokens: end.tokens,
    costUsd: end.costUsd ?? -1,
    endedAt: Date.now(),
    ...(end.pullRequest !== undefined ? { pullRequest: end.pullRequest } : {}),
    ...(end.error ? { error: end.error } : {}),
  });
  await deps.ledger.append(end.runId, {
    type: 'run.finished',
    status: end.status,
    tokens: end.tokens,
    costUsd: end.costUsd,
    ...(end.error ? { error: end.error } : {}),
  });
  deps.log.info(
    { runId: end.runId, status: end.status, tokens: end.tokens, costUsd: end.costUsd, error: end.error },
    'run finished',
  );
}
