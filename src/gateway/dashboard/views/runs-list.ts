import { html } from 'hono/html';
import { RUN_STATUSES } from '../../../ledger/index.js';
import { durationMs, type RunFilter, type RunSummary } from '../run-summary.js';
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

export interface RunsListView {
  readonly runs: readonly RunSummary[];
  readonly filter: RunFilter;
  /** Values offered by the filter menus (from the runs the viewer may see). */
  readonly options: { readonly repos: readonly string[]; readonly workflows: readonly string[] };
  readonly webUrl: string | undefined;
  readonly now: number;
  /** The viewer sees only the repositories they can write to (a GitHub user). */
  readonly onlyWritable: boolean;
  /** The URL of this list's rows alone, for the live refresh. */
  readonly rowsUrl: string;
}

/** The state filter: every run status, and `active` for those not yet ended. */
const STATES = ['active', ...RUN_STATUSES];

export function runsListBody(v: RunsListView): Html {
  return html`<h1>Runs</h1>
    <form class="filters" method="get" action="/runs">
      ${select('repo', 'Repository', v.options.repos, v.filter.repo)}
      ${select('workflow', 'Workflow', v.options.workflows, v.filter.workflow)}
      ${select('state', 'State', STATES, v.filter.state)}
      <noscript><button class="btn" type="submit">Filter</button></noscript>
      ${v.filter.repo || v.filter.workflow || v.filter.state ? html`<a href="/runs">clear</a>` : ''}
    </form>
    <table class="runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Issue / PR</th>
          <th>Trigger</th>
          <th>By</th>
          <th>State</th>
          <th>Step</th>
          <th class="num">Duration</th>
          <th class="num">Tokens</th>
          <th class="num">Cost</th>
        </tr>
      </thead>
      <tbody data-live-list="${v.rowsUrl}">
        ${runRows(v)}
      </tbody>
    </table>`;
}

/** The table's rows alone (the live refresh swaps them in). */
export function runRows(v: RunsListView): Html {
  if (v.runs.length === 0)
    return html`<tr>
      <td colspan="9" class="muted">
        No
        runs${v.filter.repo || v.filter.workflow || v.filter.state ? ' match these filters' : v.onlyWritable ? ' yet in the repositories you can write to' : ' yet. Label an issue droid to start one'}.
      </td>
    </tr>`;
  return html`${v.runs.map(
    (r) =>
      html`<tr data-run="${r.runId}">
        <td data-label="Run">
          <a href="${runHref(r.runId)}">${r.runId}</a>
          <div class="muted">${r.workflow}</div>
        </td>
        <td data-label="Issue / PR">
          ${subjectLink(r, v.webUrl)} ${r.pullRequest !== null ? html`→ PR ${prLink(r, v.webUrl)}` : ''}
          ${r.title ? html`<div class="muted">${r.title}</div>` : ''}
        </td>
        <td data-label="Trigger">${r.trigger}</td>
        <td data-label="By">${r.by}</td>
        <td data-label="State">${badge(r.status)}</td>
        <td data-label="Step">${r.step}</td>
        <td data-label="Duration" class="num">${formatDuration(durationMs(r, v.now))}</td>
        <td data-label="Tokens" class="num">${formatTokens(r.tokens)}</td>
        <td data-label="Cost" class="num">${r.costRecorded ? formatCost(r.costUsd) : ''}</td>
      </tr>`,
  )}`;
}

function select(name: string, label: string, values: readonly string[], current: string): Html {
  const all = current && !values.includes(current) ? [...values, current] : values;
  return html`<label
    >${label}
    <select name="${name}">
      <option value="">all</option>
      ${all.map((v) => html`<option value="${v}" ${v === current ? 'selected' : ''}>${v.replace('_', ' ')}</option>`)}
    </select></label
  >`;
}
