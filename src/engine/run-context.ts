import type { Tracer } from '@opentelemetry/api';
import type { AgentResult } from '../agent/run-agent.js';
import type { Config } from '../config/load-config.js';
import type { GitHubHost } from '../github/types.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { ModelRouter } from '../models/router.js';
import type { RunJob } from '../queue/jobs.js';
import type { Sandbox, SandboxProvider } from '../sandbox/types.js';
import type { Logger } from '../util/logger.js';
import type { WorkflowDefinition } from '../workflows/parse-workflow.js';
import type { RepoSetup } from './repo-setup.js';
import type { Workspace, WorkspaceManager } from '../workspace/workspace-manager.js';
import type { EventSink, RunLedger } from '../ledger/index.js';
import type { MaintenanceRunHooks } from '../schedules/run-hooks.js';
import type { ProgressView } from './render-progress.js';
import type { DeployServices } from '../deploy/deploy-services.js';
import type { DeployRunState } from '../steps/deploy-state.js';

/** Built once per process in `cli/` and shared by every run. */
export interface RunServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly github: GitHubHost;
  readonly models: ModelRouter;
  readonly sandboxes: SandboxProvider;
  readonly workspaces: WorkspaceManager;
  readonly ledger: RunLedger;
  /** A repository's `.droidworks.yml` and workflows at its default branch's head (cached by SHA). */
  readonly repoSetup: (owner: string, repo: string, signal?: AbortSignal) => Promise<RepoSetup>;
  /** Resolves when a writer approved the plan of `subject`, or rejects on timeout/abort. */
  readonly waitForApproval?: (subject: string, timeoutMs: number, signal: AbortSignal) => Promise<string>;
  readonly dashboardUrl?: (runId: string) => string | undefined;
  /** Secret values that must never appear in prompts, comments or logs. */
  readonly secrets: readonly string[];
  /** The deploy stage (locks, CI wake-ups, deploy secrets); absent = deploy workflows fail with a note. */
  readonly deploy?: DeployServices;
  /** How checkout, publish and report treat scheduled maintenance runs (`job.maintenance`). */
  readonly maintenance?: MaintenanceRunHooks;
  /** OpenTelemetry tracer (`OTEL_EXPORTER_OTLP_ENDPOINT`): each step a span. Absent: no tracing. */
  readonly tracer?: Tracer;
}

export interface TestOutcome {
  readonly command: string;
  readonly passed: boolean;
  readonly exitCode: number;
  readonly failedTests: readonly string[];
  readonly output: string;
  readonly round: number;
  readonly durationMs: number;
}

/** The mutable state one run builds up, step by step. */
export interface RunState {
  issue?: { title: string; body: string; comments: Array<{ user: string; body: string }> };
  sandbox?: Sandbox;
  workspace?: Workspace;
  plan?: string[];
  /** Feedback for the next coding round (failing tests, review findings). */
  feedback?: string;
  agent?: AgentResult;
  /** What publish says instead of the agent's summary (e.g. the dependency-update table). */
  summary?: string;
  codeRounds: number;
  tests?: TestOutcome;
  /**
   * The dependency updates could not be applied (npm's ERESOLVE: their peer dependencies conflict),
   * so no test ran: publish opens a draft that shows the conflict.
   */
  installFailure?: { readonly command: string; readonly output: string };
  reviewRounds: number;
  pullRequest?: { number: number; url: string; draft: boolean };
  headSha?: string;
  tokens: number;
  costUsd: number | null;
  /** `ask_oracle` calls answered so far in this run (all coding rounds). */
  oracleCalls?: number;
  stepStatus: Map<string, ProgressView['steps'][number]['status']>;
  status: ProgressView['status'];
  /** This attempt failed and another will follow: nothing may claim success. */
  retrying?: boolean;
  error?: string;
  note?: string;
  /** A deploy workflow's rollout (`src/steps/deploy-state.ts`). */
  deploy?: DeployRunState;
}

/**
 * Whether what the run produced is a failure to look at rather than a success: tests that still
 * fail, or updates that could not be installed. Publish makes that PR a draft; report fails the run.
 */
export function producedFailure(state: RunState): boolean {
  return (state.tests !== undefined && !state.tests.passed) || state.installFailure !== undefined;
}

/** A run's state before its first step: no rounds, no usage, nothing decided. */
export function initialRunState(): RunState {
  return { codeRounds: 0, reviewRounds: 0, tokens: 0, costUsd: 0, stepStatus: new Map(), status: 'running' };
}

export interface RunContext {
  readonly services: RunServices;
  readonly job: RunJob;
  readonly runId: string;
  readonly workflow: WorkflowDefinition;
  readonly repoConfig: RepoConfig;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly sink: EventSink;
  readonly state: RunState;
  /** Re-renders the progress comment from `state` (throttled, never throws). */
  progress(force?: boolean): Promise<void>;
}
