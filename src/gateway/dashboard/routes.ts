import { randomUUID } from 'node:crypto';
import type { Context, Env, Hono } from 'hono';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import type { RunLedger, StoredRunEvent } from '../../ledger/index.js';
import type { IntakeJob } from '../../queue/jobs.js';
import type { Logger } from '../../util/logger.js';
import type { Access } from './access.js';
import {
  ACTIVE_STATUSES,
  matchesFilter,
  summarize,
  summarizeRecent,
  type RunFilter,
  type RunSummary,
} from './run-summary.js';
import { csrfOk, type Viewer } from './sessions.js';
import { runHref } from './views/format.js';
import { page, securityHeaders } from './views/layout.js';
import { runPageBody, runSummaryBlock } from './views/run-page.js';
import { runRows, runsListBody, type RunsListView } from './views/runs-list.js';
import { transcriptItem } from './views/transcript-item.js';

export interface RunRoutesOptions {
  readonly ledger: RunLedger;
  readonly access: Access;
  /** Who is asking; `undefined`: not signed in (the route answers 401 or sends to the sign-in page). */
  readonly viewer: (c: Context) => Promise<Viewer | undefined>;
  /** Queues what `/droid cancel` and `/droid retry` would (the worker handles it like the comment). */
  readonly submitCommand?: (job: IntakeJob) => Promise<unknown>;
  readonly commandPrefix: string;
  /** The login that stands for the admin in the command's job and replies. */
  readonly adminLogin: string;
  readonly webUrl: string | undefined;
  readonly logger: Logger;
  /** How often the live stream looks for new events. @defaultValue 500 ms */
  readonly pollMs?: number;
  /** How long one live stream stays open before the browser reconnects. @defaultValue 10 minutes */
  readonly streamMs?: number;
}

/** How many recent runs the list looks through (filters apply to these). */
const LIST_SIZE = 500;
/** Runs shown on the list page and answered by `/api/runs` without `limit`. */
const PAGE_SIZE = 100;
const NOTICES: Record<string, string> = {
  cancel: 'Cancel requested. The run stops in a moment; this page follows it.',
  retry: 'Retry requested. The new run appears in the list in a moment.',
};

/**
 * The run pages: `/runs` (filtered list), `/runs/:id` (one run, live), `/runs/:id/events`
 * (server-sent events from the ledger), `POST /runs/:id/{cancel,retry}`, and the JSON twins under
 * `/api/runs`. Every route asks `viewer` first and shows only what `access` allows.
 */
export function mountRunRoutes<E extends Env>(app: Hono<E>, o: RunRoutesOptions): void {
  const log = o.logger.child({ component: 'dashboard' });
  const pollMs = o.pollMs ?? 500;
  const streamMs = o.streamMs ?? 600_000;

  /** The runs the viewer may see, newest first, with the filter applied. */
  const visibleRuns = async (viewer: Viewer, filter: RunFilter) => {
    const all = (await o.ledger.recent(LIST_SIZE)).map(summarizeRecent);
    const repos = [...new Set(all.map((r) => r.repo))];
    const seen = new Set<string>();
    await Promise.all(
      repos.map(async (repo) => {
        if ((await o.access.of(viewer, repo)).see) seen.add(repo);
      }),
    );
    const visible = all.filter((r) => seen.has(r.repo));
    return {
      runs: visible.filter((r) => matchesFilter(r, filter)),
      options: {
        repos: [...seen].filter(Boolean).sort(),
        workflows: [...new Set(visible.map((r) => r.workflow).filter(Boolean))].sort(),
      },
    };
  };

  /** One run, if it exists and the viewer may see it. */
  const loadRun = async (viewer: Viewer, runId: string) => {
    const [state, events] = await Promise.all([o.ledger.state(runId), o.ledger.events(runId)]);
    if (Object.keys(state).length === 0 && events.length === 0) return undefined;
    const run = summarize(runId, state, null);
    const access = await o.access.of(viewer, run.repo);
    if (!access.see) return undefined;
    return { run, state, events, access };
  };

  const filterOf = (c: Context): RunFilter => ({
    repo: c.req.query('repo') ?? '',
    workflow: c.req.query('workflow') ?? '',
    state: c.req.query('state') ?? '',
  });

  const listView = async (c: Context, viewer: Viewer): Promise<RunsListView> => {
    const filter = filterOf(c);
    const { runs: all, options } = await visibleRuns(viewer, filter);
    const runs = all.slice(0, PAGE_SIZE);
    const q = new URLSearchParams({ ...filter, rows: '1' });
    return {
      runs,
      filter,
      options,
      webUrl: o.webUrl,
      now: Date.now(),
      onlyWritable: viewer.kind === 'user',
      rowsUrl: `/runs?${q.toString()}`,
    };
  };

  app.get('/runs', async (c) => {
    const viewer = await o.viewer(c);
    if (!viewer) return toSignIn(c);
    const view = await listView(c, viewer);
    if (c.req.query('rows') === '1') {
      securityHeaders(c);
      return c.html(runRows(view));
    }
    return page(c, { title: 'Runs · droidworks', body: runsListBody(view), viewer });
  });

  app.get('/runs/:id', async (c) => {
    const viewer = await o.viewer(c);
    if (!viewer) return toSignIn(c);
    const runId = c.req.param('id');
    const found = await loadRun(viewer, runId);
    if (!found) {
      log.debug({ runId }, 'dashboard: unknown or hidden run');
      return page(c, {
        status: 404,
        title: 'Not found · droidworks',
        viewer,
        body: notFound(runId),
      });
    }
    return page(c, {
      title: `${found.run.subject || runId} · droidworks`,
      viewer,
      body: runPageBody({
        run: found.run,
        attempt: found.state.attempt ?? '',
        events: found.events,
        viewer,
        canAct: found.access.act,
        webUrl: o.webUrl,
        now: Date.now(),
        notice: NOTICES[c.req.query('requested') ?? ''],
      }),
    });
  });

  app.get('/runs/:id/events', async (c) => {
    const viewer = await o.viewer(c);
    if (!viewer) return c.json({ error: 'sign in first' }, 401);
    const runId = c.req.param('id');
    const found = await loadRun(viewer, runId);
    if (!found) return c.json({ error: 'run not found', runId }, 404);
    let last = c.req.header('last-event-id') || c.req.query('after') || '-';
    if (!/^(-|\d+-\d+)$/.test(last)) last = '-';
    const startedAt = found.events[0]?.at ?? Date.now();
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      // Flushes the headers at once: the page shows "Live" before the first new event.
      await stream.write(': connected\nretry: 2000\n\n');
      const until = Date.now() + streamMs;
      let idle = 0;
      while (open && Date.now() < until) {
        const fresh: StoredRunEvent[] = await o.ledger.events(runId, last);
        for (const e of fresh) {
          await stream.writeSSE({
            id: e.id,
            event: 'run-event',
            data: JSON.stringify({ type: e.type, html: String(await transcriptItem(e, startedAt)) }),
          });
          last = e.id;
        }
        const state = await o.ledger.state(runId);
        if (fresh.length > 0) {
          const run = summarize(runId, state, null);
          const html = await runSummaryBlock({
            run,
            attempt: state.attempt ?? '',
            viewer,
            canAct: found.access.act,
            webUrl: o.webUrl,
            now: Date.now(),
          });
          await stream.writeSSE({
            event: 'summary',
            data: JSON.stringify({ status: run.status, html: String(html) }),
          });
          idle = 0;
        } else if ((idle += pollMs) >= 15_000) {
          await stream.write(': keep-alive\n\n');
          idle = 0;
        }
        if (state.status && !ACTIVE_STATUSES.has(state.status) && fresh.length === 0) {
          await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: state.status }) });
          return;
        }
        await stream.sleep(pollMs);
      }
    });
  });

  for (const verb of ['cancel', 'retry'] as const)
    app.post(`/runs/:id/${verb}`, async (c) => {
      const viewer = await o.viewer(c);
      if (!viewer) return c.json({ error: 'sign in first' }, 401);
      const form = await c.req.parseBody();
      if (!csrfOk(viewer, form.csrf)) {
        log.warn({ verb, viewer: viewer.kind }, 'dashboard: action refused, missing or wrong CSRF token');
        return c.text(
          'Refused: this form is stale or was not sent by the dashboard (CSRF token missing or wrong).',
          403,
        );
      }
      const runId = c.req.param('id');
      const found = await loadRun(viewer, runId);
      if (!found) return c.text('Run not found.', 404);
      if (!found.access.act || viewer.kind === 'guard' || !o.submitCommand)
        return c.text('Refused: only people who can write to this repository may do this.', 403);
      const job = commandJob(found.run, verb, viewer, o);
      if (!job)
        return c.text(
          'This run is about no issue or pull request, so it cannot be cancelled or retried here.',
          400,
        );
      await o.submitCommand(job);
      log.info(
        { runId, verb, by: job.sender.login, deliveryId: job.deliveryId },
        'dashboard: command queued',
      );
      return c.redirect(`${runHref(runId)}?requested=${verb}`, 303);
    });

  app.get('/api/runs', async (c) => {
    const viewer = await o.viewer(c);
    if (!viewer) return c.json({ error: 'sign in first' }, 401);
    const n = Number.parseInt(c.req.query('limit') ?? '', 10);
    const limit = Number.isFinite(n) ? Math.min(Math.max(n, 1), LIST_SIZE) : PAGE_SIZE;
    return c.json({ runs: (await visibleRuns(viewer, filterOf(c))).runs.slice(0, limit) });
  });

  app.get('/api/runs/:id', async (c) => {
    const viewer = await o.viewer(c);
    if (!viewer) return c.json({ error: 'sign in first' }, 401);
    const runId = c.req.param('id');
    const found = await loadRun(viewer, runId);
    if (!found) return c.json({ error: 'run not found', runId }, 404);
    return c.json({ run: { ...found.run, state: found.state }, events: found.events });
  });
}

/** The intake job a comment `/droid <verb>` on the run's issue or PR would have produced. Pure. */
export function commandJob(
  run: RunSummary,
  verb: 'cancel' | 'retry',
  viewer: Exclude<Viewer, { kind: 'guard' }>,
  o: Pick<RunRoutesOptions, 'commandPrefix' | 'adminLogin'>,
  now = Date.now(),
): IntakeJob | undefined {
  const m = /^([\w.-]+)\/([\w.-]+)#(\d+)$/.exec(run.subject);
  if (!m) return undefined;
  return {
    kind: 'command',
    deliveryId: `dashboard-${randomUUID()}`,
    event: 'dashboard',
    action: verb,
    repo: { owner: m[1]!, name: m[2]! },
    sender: { login: viewer.kind === 'admin' ? o.adminLogin : viewer.login },
    subject: { type: run.subjectType, number: Number(m[3]), ...(run.title ? { title: run.title } : {}) },
    commands: [`${o.commandPrefix} ${verb}`],
    receivedAt: now,
    ...(viewer.kind === 'admin' ? { dashboardAdmin: true as const } : {}),
  };
}

function toSignIn(c: Context) {
  const next = new URL(c.req.url);
  return c.redirect(`/login?next=${encodeURIComponent(next.pathname + next.search)}`, 302);
}

function notFound(runId: string) {
  return html`<h1>Run not found</h1>
    <p>No run <code>${runId}</code> that you may see is in the ledger; runs are kept for 30 days.</p>
    <p><a href="/runs">All runs</a></p>`;
}
