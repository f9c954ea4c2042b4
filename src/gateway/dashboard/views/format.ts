import { html } from 'hono/html';
import { ACTIVE_STATUSES, type RunSummary } from '../run-summary.js';

export type Html = ReturnType<typeof html>;

const KNOWN_STATUS = new Set([...ACTIVE_STATUSES, 'succeeded', 'failed', 'cancelled', 'superseded']);

export function badge(status: string): Html {
  return html`<span class="badge s-${KNOWN_STATUS.has(status) ? status : 'other'}" data-status="${status}"
    >${status.replace('_', ' ')}</span
  >`;
}

export function runHref(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatTokens(n: number | null): string {
  return n === null ? '' : n.toLocaleString('en-US');
}

export function formatCost(n: number | null): string {
  if (n === null) return 'unknown';
  return `$${n.toFixed(n > 0 && n < 1 ? 4 : 2)}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Link to the run's issue or PR on GitHub, or its plain name without a web URL. */
export function subjectLink(run: RunSummary, webUrl: string | undefined): Html | string {
  const m = /^([\w.-]+)\/([\w.-]+)#(\d+)$/.exec(run.subject);
  if (!webUrl || !m) return run.subject;
  const kind = run.subjectType === 'pull' ? 'pull' : 'issues';
  return html`<a href="${webUrl}/${m[1]}/${m[2]}/${kind}/${m[3]}">${run.subject}</a>`;
}

export function prLink(run: RunSummary, webUrl: string | undefined): Html | string {
  if (run.pullRequest === null) return '';
  if (!webUrl || !run.repo) return `#${run.pullRequest}`;
  return html`<a href="${webUrl}/${run.repo}/pull/${run.pullRequest}">#${run.pullRequest}</a>`;
}
