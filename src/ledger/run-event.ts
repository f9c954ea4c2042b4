/**
 * Everything a run's ledger can hold: one discriminated union over `type`. Producers (engine,
 * steps, agent loop, model router) emit these; views (dashboard, CLI, metrics, demo narration)
 * switch over `type` exhaustively, ending with {@link unreachable} so a new event kind is a type
 * error in every view until it is handled.
 */
export type RunEvent =
  // ---- the run ----
  | {
      readonly type: 'run.queued';
      readonly workflow: string;
      readonly by: string;
      readonly deliveryId?: string;
      readonly deploy?: {
        readonly action: string;
        readonly sha: string | null;
        readonly environment: string | null;
      };
    }
  | {
      readonly type: 'run.started';
      readonly attempt: number;
      readonly resumed: boolean;
      readonly workflow: string;
    }
  | { readonly type: 'run.retrying'; readonly attempt: number; readonly error?: string }
  | { readonly type: 'run.waiting'; readonly reason: string }
  | { readonly type: 'run.cancel_requested'; readonly by: string; readonly why?: string }
  | {
      readonly type: 'run.finished';
      readonly status: string;
      readonly tokens: number;
      readonly costUsd: number | null;
      readonly error?: string;
    }
  // ---- steps ----
  | { readonly type: 'step.started' | 'step.resumed'; readonly step: string }
  | {
      readonly type: 'step.completed';
      readonly step: string;
      readonly durationMs: number;
      readonly saved?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'step.failed';
      readonly step: string;
      readonly durationMs: number;
      readonly error: string;
    }
  | { readonly type: 'step.retry'; readonly step: string; readonly attempt: number; readonly error: string }
  | { readonly type: 'step.loop'; readonly from: string; readonly to: string; readonly round: number }
  // ---- plan, agent, models ----
  | { readonly type: 'plan'; readonly items: readonly string[] }
  | { readonly type: 'plan.approved'; readonly by: string }
  | {
      readonly type: 'agent.started';
      readonly role: string;
      readonly budgets: Readonly<Record<string, unknown>>;
      readonly tools: readonly string[];
      readonly instructions: string | null;
      readonly repoMapBytes: number;
      readonly taskBytes: number;
    }
  | AgentModelEvent
  | { readonly type: 'agent.nudge'; readonly step: number }
  | {
      readonly type: 'agent.tool';
      readonly step: number;
      readonly callId: string;
      readonly tool: string;
      readonly ok: boolean;
      readonly resultBytes: number;
      readonly durationMs: number;
      readonly error?: string;
    }
  | {
      readonly type: 'agent.finished';
      readonly reason: string;
      readonly steps: number;
      readonly summary?: string;
      readonly error?: string;
      readonly inputTokens: number;
      readonly outputTokens: number;
      readonly cachedInputTokens: number;
      readonly costUsd: number;
      readonly costKnown: boolean;
      readonly durationMs: number;
    }
  | {
      readonly type: 'model.retry';
      readonly role: string;
      readonly model: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: string;
      readonly errorKind: string;
    }
  | {
      readonly type: 'model.fallback';
      readonly role: string;
      readonly from: string;
      readonly to: string;
      readonly error: string;
      readonly errorKind: string;
    }
  // ---- workspace, tests, review, publish ----
  | {
      readonly type: 'install';
      readonly command: string;
      readonly exitCode: number;
      readonly durationMs: number;
    }
  | {
      readonly type: 'tests';
      readonly command: string;
      readonly passed: boolean;
      readonly exitCode?: number;
      readonly failedTests?: readonly string[];
      readonly round?: number;
      readonly rerun?: number;
      readonly durationMs?: number;
      /** The end of the test output (capped, redacted like every event). */
      readonly output?: string;
    }
  | { readonly type: 'tests.skipped'; readonly reason: string }
  | { readonly type: 'review'; readonly approved: boolean; readonly findings: readonly string[] }
  | {
      readonly type: 'pushed';
      readonly branch: string;
      readonly sha: string;
      readonly rebased: boolean;
      /** The branch's diff against its base (capped), when the step could read it. */
      readonly diff?: string;
    }
  | {
      readonly type: 'pull_request';
      readonly number: number;
      readonly created: boolean;
      readonly draft: boolean;
    }
  // ---- maintenance ----
  | {
      readonly type: 'stale_branches';
      readonly warned: readonly number[];
      readonly closed: readonly number[];
      readonly deleted: readonly string[];
    }
  | { readonly type: 'flaky_tests'; readonly flaky: readonly string[]; readonly reruns: number }
  | { readonly type: 'dependency_updates'; readonly updates: readonly string[] }
  // ---- deploys ----
  | {
      readonly type: 'deploy.gate';
      readonly sha: string;
      readonly verdict: string;
      readonly checks: ReadonlyArray<{
        readonly name: string;
        readonly state: string;
        readonly detail: string;
      }>;
    }
  | { readonly type: 'deploy.approved'; readonly environment: string; readonly by: string }
  | { readonly type: 'deploy.superseded'; readonly sha: string; readonly by: string }
  | {
      readonly type: 'deploy.started';
      readonly environment: string;
      readonly sha: string;
      readonly deploymentId: number;
      readonly reused: boolean;
    }
  | {
      readonly type: 'deploy.deployer';
      readonly environment: string;
      readonly ok: boolean;
      readonly summary: string;
    }
  | {
      readonly type: 'deploy.health';
      readonly environment: string;
      readonly healthy: boolean;
      readonly reason: string;
    }
  | {
      readonly type: 'deploy.succeeded';
      readonly environment: string;
      readonly sha: string;
      readonly deploymentId?: number;
    }
  | {
      readonly type: 'deploy.rollback';
      readonly environment: string;
      readonly result: 'no_previous_good' | 'restored' | 'failed';
      readonly sha?: string;
      readonly detail?: string;
    }
  | {
      readonly type: 'deploy.rollback.called';
      readonly environment: string;
      readonly sha: string;
      readonly from: string;
      readonly deploymentId: number;
    }
  | {
      readonly type: 'deploy.incident';
      readonly environment: string;
      readonly sha: string;
      readonly issue: number;
    };

/**
 * One model request of the agent loop (or the oracle). A failed request has `error` and none of the
 * response fields.
 */
export interface AgentModelEvent {
  readonly type: 'agent.model';
  readonly step?: number;
  readonly role: string;
  readonly provider?: string;
  readonly model?: string;
  readonly requestBytes?: number;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly cachedInputTokens?: number;
  readonly costUsd?: number | null;
  readonly latencyMs?: number;
  readonly attempts?: number;
  readonly stopReason?: string;
  /** The model's text (capped). */
  readonly text?: string;
  readonly toolCalls?: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly arguments: string;
  }>;
  readonly error?: string;
  readonly errorKind?: string;
}

/** Every event kind, for views that list or filter them. */
export type RunEventType = RunEvent['type'];

/** The event of one kind. */
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/** An event as read back from the ledger: its stream id and when it was appended. */
export type StoredRunEvent = RunEvent & { readonly id: string; readonly at: number };

/** Where a producer of events (agent loop, steps, engine) writes them. */
export interface EventSink {
  emit(event: RunEvent): Promise<void>;
}

/**
 * The end of an exhaustive `switch (event.type)`: a type error when a kind is not handled. At run
 * time (a ledger written by a newer version) it returns `fallback` instead of throwing.
 */
export function unreachable<T>(event: never, fallback: T): T {
  void event;
  return fallback;
}

/** Whether `event` is of kind `type` (narrows it). */
export function isEvent<T extends RunEventType, E extends RunEvent>(
  event: E,
  type: T,
): event is E & RunEventOf<T> {
  return event.type === type;
}

/** The events of one kind, in order. */
export function eventsOf<T extends RunEventType, E extends RunEvent>(
  events: readonly E[],
  type: T,
): Array<E & RunEventOf<T>> {
  return events.filter((e): e is E & RunEventOf<T> => e.type === type);
}
