import { isFinalStatus, RUN_STATUSES, type RecentRun } from '../../ledger/index.js';

/** The states of a run that are not over yet. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES.filter((s) => !isFinalStatus(s)));

/** One run as the list and the run page's header show it, read from its state hash. */
export interface RunSummary {
  readonly runId: string;
  readonly status: string;
  readonly workflow: string;
  /** `owner/repo#12`. */
  readonly subject: string;
  /** `owner/repo` (lowercase as written), or empty when the subject is not recorded. */
  readonly repo: string;
  readonly subjectType: 'issue' | 'pull';
  /** The issue or PR title, when the run recorded one. */
  readonly title: string;
  /** What started it: `label`, `/droid retry`, `pull_request_review.submitted`… */
  readonly trigger: string;
  /** Who triggered it (a GitHub login). */
  readonly by: string;
  readonly step: string;
  readonly tokens: number | null;
  /** `null` when unknown (the ledger stores `-1`: a model without a price) or not recorded yet. */
  readonly costUsd: number | null;
  /** Whether the run recorded a cost (it does when it ends). */
  readonly costRecorded: boolean;
  readonly pullRequest: number | null;
  readonly queuedAt: number | null;
  readonly endedAt: number | null;
  readonly updatedAt: number | null;
  readonly error: string;
}

/** A run's state hash as typed fields. Pure. */
export function summarize(
  runId: string,
  state: Readonly<Record<string, string>>,
  updatedAt: number | null,
): RunSummary {
  const cost = numberOr(state.costUsd);
  const subject = state.subject ?? '';
  const parts = subjectParts(subject);
  const workflow = state.workflow ?? '';
  return {
    runId,
    status: state.status ?? 'unknown',
    workflow,
    subject,
    repo: parts ? `${parts.owner}/${parts.repo}` : '',
    subjectType:
      state.subjectType === 'pull' || (!state.subjectType && PULL_WORKFLOWS.has(workflow)) ? 'pull' : 'issue',
    title: state.title ?? '',
    trigger: state.trigger ?? '',
    by: state.by ?? '',
    step: state.step ?? '',
    tokens: numberOr(state.tokens),
    costUsd: cost === null || cost < 0 ? null : cost,
    costRecorded: cost !== null,
    pullRequest: numberOr(state.pullRequest),
    queuedAt: numberOr(state.queuedAt),
    endedAt: numberOr(state.endedAt),
    updatedAt,
    error: state.error ?? '',
  };
}

/** Built-in workflows that run on pull requests (for runs recorded before `subjectType` was). */
const PULL_WORKFLOWS: ReadonlySet<string> = new Set(['pr-command', 'review-iterate']);

export function summarizeRecent(r: RecentRun): RunSummary {
  return summarize(r.runId, r.state, r.updatedAt);
}

/** Milliseconds from queued to ended (or `now` while it goes on); null when unknown. Pure. */
export function durationMs(run: RunSummary, now: number): number | null {
  if (run.queuedAt === null) return null;
  const end = run.endedAt ?? (ACTIVE_STATUSES.has(run.status) ? now : run.updatedAt);
  return end === null ? null : Math.max(0, end - run.queuedAt);
}

/** The list's filters; empty strings match everything. */
export interface RunFilter {
  readonly repo: string;
  readonly workflow: string;
  readonly state: string;
}

/** Whether a run passes the filters. Pure. */
export function matchesFilter(run: RunSummary, f: RunFilter): boolean {
  if (f.repo && run.repo.toLowerCase() !== f.repo.toLowerCase()) return false;
  if (f.workflow && run.workflow !== f.workflow) return false;
  if (f.state === 'active') return ACTIVE_STATUSES.has(run.status);
  if (f.state && run.status !== f.state) return false;
  return true;
}

/** `owner/repo#12` → its parts, or `undefined` for anything else. Pure. */
export function subjectParts(subject: string): { owner: string; repo: string; number: number } | undefined {
  const m = /^([\w.-]+)\/([\w.-]+)#(\d+)$/.exec(subject);
  if (!m) return undefined;
  return { owner: m[1]!, repo: m[2]!, number: Number(m[3]) };
}

function numberOr(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
