import { html } from 'hono/html';
import { eventsOf, type StoredRunEvent } from '../../../ledger/index.js';
import { ACTIVE_STATUSES, durationMs, type RunSummary } from '../run-summary.js';
import type { Viewer } from '../sessions.js';
import {
  badge,
  formatCost,
  formatDuration,
  formatTokens,
  prLink,
  runHref,
  subjectLink,
  type Html,
} from './format.js';
import { transcriptItem } from './transcript-item.js';

export interface RunPageView {
  readonly run: RunSummary;
  readonly attempt: string;
  readonly events: readonly StoredRunEvent[];
  readonly viewer: Viewer;
  /** Whether the viewer may press cancel and retry (a writer of the repository, or the admin). */
  readonly canAct: boolean;
  readonly webUrl: string | undefined;
  readonly now: number;
  readonly notice?: string;
}

export function runPageBody(v: RunPageView): Html {
  const startedAt = v.events[0]?.at ?? v.now;
  const lastId = v.events.at(-1)?.id ?? '-';
  const live = `${runHref(v.run.runId)}/events?after=${encodeURIComponent(lastId)}`;
  const plan = eventsOf(v.events, 'plan').at(-1);
  return html`<div data-live-run="${live}" data-started-at="${startedAt}">
    <h1>Run <code>${v.run.runId}</code></h1>
    ${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
    <div id="summary">${runSummaryBlock(v)}</div>
    <section>
      <h2>Plan</h2>
      ${
        plan && plan.items.length > 0
          ? html`<ol class="plan">
              ${plan.items.map((i) => html`<li>${i}</li>`)}
            </ol>`
          : html`<p class="muted">
              No plan yet: it appears in the transcript below when the planner writes it.
            </p>`
      }
    </section>
    <section>
      <h2>
        Transcript <span id="live-status">${ACTIVE_STATUSES.has(v.run.status) ? 'Connecting…' : ''}</span>
      </h2>
      <ol class="transcript" id="transcript">
        ${v.events.length === 0 ? html`<li id="transcript-empty" class="muted">Nothing recorded yet.</li>` : ''}
        ${v.events.map((e) => transcriptItem(e, startedAt))}
      </ol>
    </section>
    <p><a href="/api/runs/${encodeURIComponent(v.run.runId)}">JSON</a> · <a href="/runs">all runs</a></p>
  </div>`;
}

/** The run's header: state, numbers and the buttons (re-rendered live). */
export function runSummaryBlock(v: Omit<RunPageView, 'events' | 'notice'>): Html {
  const r = v.run;
  return html`<dl>
      <dt>State</dt>
      <dd>${badge(r.status)}${r.step ? html` · step <strong>${r.step}</strong>` : ''}</dd>
      <dt>Issue / PR</dt>
      <dd>${subjectLink(r, v.webUrl)} ${r.title ? html`<span class="muted">${r.title}</span>` : ''}</dd>
      <dt>Workflow</dt>
      <dd>${r.workflow}</dd>
      <dt>Trigger</dt>
      <dd>${r.trigger}${r.by ? html` by <strong>${r.by}</strong>` : ''}</dd>
      <dt>Attempt</dt>
      <dd>${v.attempt}</dd>
      <dt>Duration</dt>
      <dd>${formatDuration(durationMs(r, v.now))}</dd>
      <dt>Tokens</dt>
      <dd>${formatTokens(r.tokens)}</dd>
      <dt>Cost</dt>
      <dd>${r.costRecorded ? formatCost(r.costUsd) : ''}</dd>
      <dt>Pull request</dt>
      <dd>${prLink(r, v.webUrl) || html`<span class="muted">none</span>`}</dd>
    </dl>
    ${r.error ? html`<p class="error"><strong>What went wrong:</strong> ${r.error}</p>` : ''} ${controls(v)}`;
}

function controls(v: Omit<RunPageView, 'events' | 'notice'>): Html | string {
  if (!v.canAct || v.viewer.kind === 'guard') return '';
  const active = ACTIVE_STATUSES.has(v.run.status);
  const action = (verb: 'cancel' | 'retry', label: string, cls: string) =>
    html`<form method="post" action="${runHref(v.run.runId)}/${verb}">
      <input type="hidden" name="csrf" value="${v.viewer.kind === 'guard' ? '' : v.viewer.csrf}" />
      <button class="btn ${cls}" type="submit" data-action="${verb}">${label}</button>
    </form>`;
  return html`<div class="controls">
    ${active ? action('cancel', 'Cancel run', 'danger') : action('retry', 'Retry', 'primary')}
  </div>`;
}
