/** One check run (`GET …/commits/{sha}/check-runs`) as the gate reads it. */
export interface ObservedCheckRun {
  readonly name: string;
  /** `queued` | `in_progress` | `completed` (and GitHub's newer `waiting`, `requested`, `pending`). */
  readonly status: string;
  readonly conclusion: string | null;
  readonly url?: string | null;
}

/** One commit status (`GET …/commits/{sha}/status`, latest per context). */
export interface ObservedStatus {
  readonly context: string;
  /** `success` | `pending` | `failure` | `error` */
  readonly state: string;
  readonly url?: string | null;
}

export type CheckState = 'passed' | 'failed' | 'pending' | 'missing';

export interface GateCheck {
  readonly name: string;
  readonly state: CheckState;
  /** The conclusion or status state GitHub reported (`failure`, `in_progress`…). */
  readonly detail: string;
  readonly url?: string;
}

export type GateDecision =
  | { readonly verdict: 'deploy'; readonly checks: readonly GateCheck[] }
  | {
      readonly verdict: 'block';
      readonly checks: readonly GateCheck[];
      readonly failed: readonly GateCheck[];
    }
  | {
      readonly verdict: 'wait';
      readonly checks: readonly GateCheck[];
      readonly waiting: readonly GateCheck[];
    };

const PASSING = new Set(['success', 'neutral', 'skipped']);

function runState(run: ObservedCheckRun): { state: CheckState; detail: string } {
  if (run.status !== 'completed') return { state: 'pending', detail: run.status };
  const conclusion = run.conclusion ?? 'none';
  // Anything but the three passing conclusions blocks: failure, cancelled, timed_out,
  // action_required, stale, startup_failure and any conclusion GitHub adds later.
  return { state: PASSING.has(conclusion) ? 'passed' : 'failed', detail: conclusion };
}

function statusState(status: ObservedStatus): { state: CheckState; detail: string } {
  if (status.state === 'success') return { state: 'passed', detail: 'success' };
  if (status.state === 'pending') return { state: 'pending', detail: 'pending' };
  return { state: 'failed', detail: status.state };
}

const RANK: Record<CheckState, number> = { failed: 3, pending: 2, missing: 1, passed: 0 };

/**
 * Is the gate open for a commit? Pure. `required` names check runs or status contexts; empty means
 * every one reported on the commit. Deploys only when every required check passed (`success`,
 * `neutral`, `skipped`); any failed one blocks; a missing or pending one waits. A name reported both
 * as a check run and a status counts at its worst.
 */
export function decideGate(
  required: readonly string[],
  checkRuns: readonly ObservedCheckRun[],
  statuses: readonly ObservedStatus[],
): GateDecision {
  const byName = new Map<string, GateCheck>();
  const observe = (name: string, s: { state: CheckState; detail: string }, url?: string | null) => {
    const prev = byName.get(name);
    if (!prev || RANK[s.state] > RANK[prev.state]) byName.set(name, { name, ...s, ...(url ? { url } : {}) });
  };
  for (const r of checkRuns) observe(r.name, runState(r), r.url);
  for (const s of statuses) observe(s.context, statusState(s), s.url);
  const names = required.length > 0 ? [...new Set(required)] : [...byName.keys()].sort();
  const checks = names.map(
    (name): GateCheck => byName.get(name) ?? { name, state: 'missing', detail: 'not reported' },
  );
  const failed = checks.filter((c) => c.state === 'failed');
  if (failed.length > 0) return { verdict: 'block', checks, failed };
  const waiting = checks.filter((c) => c.state !== 'passed');
  if (waiting.length > 0) return { verdict: 'wait', checks, waiting };
  return { verdict: 'deploy', checks };
}
