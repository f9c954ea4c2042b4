import type { Context, Env, Hono } from 'hono';
import { html, raw } from 'hono/html';
import {
  describeEvent,
  eventsOf,
  type RecentRun,
  type RunLedger,
  type StoredRunEvent,
} from '../ledger/index.js';
import type { Logger } from '../util/logger.js';

export interface DashboardOptions {
  readonly ledger: RunLedger;
  readonly logger: Logger;
  /** Shown in every page title. @defaultValue `droidworks` */
  readonly title?: string;
  /** Web root of the GitHub host (`https://github.com`, a GHES root) for issue and PR links; none: no links. */
  readonly webUrl?: string;
}

/** One run as the list shows it, read from its state hash. */
export interface RunSummary {
  readonly runId: string;
  readonly status: string;
  readonly workflow: string;
  readonly subject: string;
  /** The issue or PR title, when the run recorded one (state field `title`). */
  readonly title: string;
  readonly step: string;
  readonly tokens: number | null;
  /** `null` when unknown (the ledger stores `-1`). */
  readonly costUsd: number | null;
  readonly pullRequest: number | null;
  readonly updatedAt: number | null;
}

type Html = ReturnType<typeof html>;

const ACTIVE = new Set(['queued', 'running', 'waiting_approval']);
const KNOWN_STATUS = new Set([...ACTIVE, 'succeeded', 'failed', 'cancelled']);
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

/**
 * The read-only run dashboard: `GET /runs` (recent runs), `GET /runs/:id` (one run's state, plan,
 * tests and event timeline) and their JSON twins under `/api/runs`. Everything shown comes from the
 * ledger (already redacted) and is HTML-escaped; pages load no external assets and run no script.
 */
export function mountDashboard<E extends Env>(app: Hono<E>, o: DashboardOptions): void {
  const title = o.title ?? 'droidworks';
  const log = o.logger.child({ component: 'dashboard' });

  app.get('/runs', async (c) => {
    const runs = await recentRuns(o.ledger, c.req.query('limit'));
    return page(
      c,
      200,
      `Runs · ${title}`,
      listBody(runs, o.webUrl),
      runs.some((r) => ACTIVE.has(r.status)),
    );
  });

  app.get('/runs/:id', async (c) => {
    const runId = c.req.param('id');
    const found = await loadRun(o.ledger, runId);
    if (!found) {
      log.debug({ runId }, 'dashboard: unknown run');
      return page(c, 404, `Not found · ${title}`, notFoundBody(runId), false);
    }
    const run = summarize(runId, found.state, null);
    return page(
      c,
      200,
      `${run.subject || runId} · ${title}`,
      detailBody(run, found.state, found.events, o.webUrl),
      ACTIVE.has(run.status),
    );
  });

  app.get('/api/runs', async (c) => c.json({ runs: await recentRuns(o.ledger, c.req.query('limit')) }));

  app.get('/api/runs/:id', async (c) => {
    const runId = c.req.param('id');
    const found = await loadRun(o.ledger, runId);
    if (!found) return c.json({ error: 'run not found', runId }, 404);
    return c.json({
      run: { ...summarize(runId, found.state, null), state: found.state },
      events: found.events,
    });
  });
}

async function recentRuns(ledger: RunLedger, limit: string | undefined): Promise<RunSummary[]> {
  const n = Number.parseInt(limit ?? '', 10);
  const count = Number.isFinite(n) ? Math.min(Math.max(n, 1), MAX_LIMIT) : DEFAULT_LIMIT;
  return (await ledger.recent(count)).map((r: RecentRun) => summarize(r.runId, r.state, r.updatedAt));
}

async function loadRun(
  ledger: RunLedger,
  runId: string,
): Promise<{ state: Record<string, string>; events: StoredRunEvent[] } | undefined> {
  const [state, events] = await Promise.all([ledger.state(runId), ledger.events(runId)]);
  if (Object.keys(state).length === 0 && events.length === 0) return undefined;
  return { state, events };
}

/** A run's state hash as typed fields. Pure. */
export function summarize(
  runId: string,
  state: Record<string, string>,
  updatedAt: number | null,
): RunSummary {
  const cost = numberOr(state.costUsd);
  return {
    runId,
    status: state.status ?? 'unknown',
    workflow: state.workflow ?? '',
    subject: state.subject ?? '',
    title: state.title ?? '',
    step: state.step ?? '',
    tokens: numberOr(state.tokens),
    costUsd: cost === null || cost < 0 ? null : cost,
    pullRequest: numberOr(state.pullRequest),
    updatedAt,
  };
}

// ---- rendering -------------------------------------------------------------------------------

function page(c: Context, status: 200 | 404, title: string, body: Html, refresh: boolean) {
  c.header(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          ${refresh ? html`<meta http-equiv="refresh" content="5" />` : ''}
          <title>${title}</title>
          <style>
            ${raw(STYLE)}
          </style>
        </head>
        <body>
          <header><a href="/runs">droidworks</a> <span class="muted">runs</span></header>
          <main>${body}</main>
        </body>
      </html>`,
    status,
  );
}

function listBody(runs: readonly RunSummary[], webUrl: string | undefined): Html {
  if (runs.length === 0)
    return html`<h1>Runs</h1>
      <p class="muted">No runs yet. Label an issue <code>droid</code> to start one.</p>`;
  return html`<h1>Runs</h1>
    <table>
      <thead>
        <tr>
          <th>Run</th>
          <th>Subject</th>
          <th>Workflow</th>
          <th>Status</th>
          <th>Step</th>
          <th class="num">Tokens</th>
          <th class="num">Cost</th>
          <th>PR</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (r) =>
            html`<tr>
              <td><a href="${runHref(r.runId)}">${r.runId}</a></td>
              <td>${r.subject}${r.title ? html`<div class="muted">${r.title}</div>` : ''}</td>
              <td>${r.workflow}</td>
              <td>${badge(r.status)}</td>
              <td>${r.step}</td>
              <td class="num">${formatTokens(r.tokens)}</td>
              <td class="num">${formatCost(r.costUsd)}</td>
              <td>${prLink(r, webUrl)}</td>
              <td class="muted">${r.updatedAt === null ? '' : isoTime(r.updatedAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function detailBody(
  run: RunSummary,
  state: Record<string, string>,
  events: readonly StoredRunEvent[],
  webUrl: string | undefined,
): Html {
  const plan = eventsOf(events, 'plan').at(-1);
  const items = plan?.items ?? [];
  const tests = eventsOf(events, 'tests');
  const review = eventsOf(events, 'review').at(-1);
  const finished = eventsOf(events, 'run.finished').at(-1);
  const failedStep = eventsOf(events, 'step.failed').at(-1);
  const error = finished?.error ?? failedStep?.error ?? '';
  const first = events[0]?.at ?? 0;
  const issue = subjectParts(run.subject);
  const issueUrl =
    webUrl && issue ? `${webUrl}/${issue.owner}/${issue.repo}/issues/${issue.number}` : undefined;
  return html`<h1>Run <code>${run.runId}</code> ${badge(run.status)}</h1>
    <dl>
      <dt>Subject</dt>
      <dd>
        ${issueUrl ? html`<a href="${issueUrl}">${run.subject}</a>` : run.subject}
        ${run.title ? html`<span class="muted">${run.title}</span>` : ''}
      </dd>
      <dt>Workflow</dt>
      <dd>${run.workflow}</dd>
      <dt>Current step</dt>
      <dd>${run.step}</dd>
      <dt>Attempt</dt>
      <dd>${state.attempt ?? ''}</dd>
      <dt>Tokens</dt>
      <dd>${formatTokens(run.tokens)}</dd>
      <dt>Cost</dt>
      <dd>${formatCost(run.costUsd)}</dd>
      <dt>Pull request</dt>
      <dd>${prLink(run, webUrl) || html`<span class="muted">none</span>`}</dd>
    </dl>
    ${
      error
        ? html`<section>
            <h2>What went wrong</h2>
            <pre>${error}</pre>
          </section>`
        : ''
    }
    <section>
      <h2>Plan</h2>
      ${
        items.length > 0
          ? html`<ol class="plan">
              ${items.map((i) => html`<li>${i}</li>`)}
            </ol>`
          : html`<p class="muted">No plan yet.</p>`
      }
    </section>
    <section>
      <h2>Tests</h2>
      ${
        tests.length > 0
          ? html`<ul class="tests">
              ${tests.map(
                (t) =>
                  html`<li class="${t.passed === true ? 'ok' : 'bad'}">
                    Round ${text(t.round)}:
                    <code>${text(t.command)}</code> ${t.passed === true ? 'passed' : 'failed'}
                    ${
                      Array.isArray(t.failedTests) && t.failedTests.length > 0
                        ? html`<ul>
                            ${t.failedTests.map((n) => html`<li><code>${text(n)}</code></li>`)}
                          </ul>`
                        : ''
                    }
                  </li>`,
              )}
            </ul>`
          : html`<p class="muted">No test results yet.</p>`
      }
    </section>
    ${
      review
        ? html`<section>
            <h2>Review</h2>
            <p>${review.approved === true ? 'Approved' : 'Changes requested'}</p>
            ${
              Array.isArray(review.findings) && review.findings.length > 0
                ? html`<ul>
                    ${review.findings.map((f) => html`<li>${text(f)}</li>`)}
                  </ul>`
                : ''
            }
          </section>`
        : ''
    }
    <section>
      <h2>Timeline</h2>
      <table class="timeline">
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th class="num">+s</th>
            <th>Event</th>
            <th>Summary</th>
          </tr>
        </thead>
        <tbody>
          ${events.map(
            (e) =>
              html`<tr class="${eventClass(e)}">
                <td class="muted">${isoTime(e.at)}</td>
                <td class="num muted">${((e.at - first) / 1000).toFixed(1)}</td>
                <td><code>${e.type}</code></td>
                <td>${describeEvent(e)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <p><a href="/api/runs/${encodeURIComponent(run.runId)}">JSON</a></p>`;
}

function notFoundBody(runId: string): Html {
  return html`<h1>Run not found</h1>
    <p>No run <code>${runId}</code> is in the ledger; runs are kept for 30 days.</p>
    <p><a href="/runs">All runs</a></p>`;
}

function badge(status: string): Html {
  return html`<span class="badge s-${KNOWN_STATUS.has(status) ? status : 'other'}">${status}</span>`;
}

function prLink(run: RunSummary, webUrl: string | undefined): Html | string {
  if (run.pullRequest === null) return '';
  const parts = subjectParts(run.subject);
  if (!webUrl || !parts) return `#${run.pullRequest}`;
  return html`<a href="${webUrl}/${parts.owner}/${parts.repo}/pull/${run.pullRequest}"
    >#${run.pullRequest}</a
  >`;
}

function runHref(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

function eventClass(e: StoredRunEvent): string {
  if (e.type === 'step.failed' || (e.type === 'run.finished' && e.status !== 'succeeded')) return 'bad';
  if (e.type === 'agent.tool' && !e.ok) return 'warn';
  if (e.type.startsWith('step.') || e.type.startsWith('run.')) return 'milestone';
  return '';
}

/** `owner/repo#12` → URL-safe parts, or `undefined` for anything else. */
function subjectParts(subject: string): { owner: string; repo: string; number: number } | undefined {
  const m = /^([\w.-]+)\/([\w.-]+)#(\d+)$/.exec(subject);
  if (!m) return undefined;
  return { owner: m[1]!, repo: m[2]!, number: Number(m[3]) };
}

function numberOr(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function formatTokens(n: number | null): string {
  return n === null ? '' : n.toLocaleString('en-US');
}

function formatCost(n: number | null): string {
  if (n === null) return 'unknown';
  return `$${n.toFixed(n > 0 && n < 1 ? 4 : 2)}`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:10px 24px;font-weight:600}
header a{color:#fff;text-decoration:none;margin-right:8px}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:20px;margin:8px 0 16px}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #d8dee4;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}
.num{text-align:right;white-space:nowrap}
.muted{color:#656d76}
a{color:#0969da}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{white-space:pre-wrap;background:#fff;border:1px solid #d0d7de;padding:8px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border:1px solid #d0d7de;padding:12px}
dt{font-weight:600}dd{margin:0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2}
.s-succeeded{background:#dafbe1;color:#116329}.s-failed{background:#ffebe9;color:#a40e26}
.s-running,.s-queued,.s-waiting_approval{background:#ddf4ff;color:#0550ae}.s-cancelled{background:#fff8c5;color:#7d4e00}
tr.bad td{background:#fff5f5}tr.warn td{background:#fffbea}tr.milestone td{font-weight:500}
li.ok{color:#116329}li.bad{color:#a40e26}
`;
