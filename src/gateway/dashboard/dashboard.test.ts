import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { RunLedger, type StoredRunEvent } from '../ledger/index.js';
import { createLogger } from '../util/logger.js';
import { mountDashboard } from './dashboard.js';

const redisUrl = inject('redisUrl');

/** The page with whitespace collapsed (the templates are formatted by prettier). */
async function pageText(res: Response): Promise<string> {
  return (await res.text()).replace(/\s+/g, ' ').replace(/ >/g, '>');
}

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';

/** Fails when `body` holds markup an attacker wrote, and checks the escaped text is there instead. */
function expectEscaped(body: string): void {
  expect(body).not.toContain('<script');
  expect(body).not.toContain('<img');
  expect(body).not.toMatch(/<[^>]*onerror/i);
  expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
}

describe('dashboard', () => {
  let redis: Redis;
  let prefix: string;
  let ledger: RunLedger;
  let app: Hono;

  beforeEach(async () => {
    redis = new Redis(redisUrl);
    prefix = `t${randomUUID().slice(0, 8)}`;
    ledger = new RunLedger(redis, prefix);
    app = new Hono();
    mountDashboard(app, {
      ledger,
      logger: createLogger({ level: 'silent' }),
      webUrl: 'https://github.example',
    });

    await ledger.setState('acme-app-7-aaa', {
      status: 'queued',
      workflow: 'resolve-issue',
      subject: 'acme/app#7',
    });
    await ledger.append('acme-app-7-aaa', { type: 'run.queued', workflow: 'resolve-issue', by: 'alice' });
    await ledger.append('acme-app-7-aaa', {
      type: 'run.started',
      attempt: 1,
      resumed: false,
      workflow: 'resolve-issue',
    });
    await ledger.append('acme-app-7-aaa', { type: 'step.started', step: 'plan' });
    await ledger.append('acme-app-7-aaa', { type: 'plan', items: ['Fix add() in src/math.js', SCRIPT, IMG] });
    await ledger.append('acme-app-7-aaa', { type: 'step.completed', step: 'plan', durationMs: 1200 });
    await ledger.append('acme-app-7-aaa', {
      type: 'agent.model',
      step: 1,
      role: 'coder',
      provider: 'openai',
      model: 'gpt-5.1',
      inputTokens: 900,
      outputTokens: 80,
      text: `I will now ${SCRIPT}`,
    });
    await ledger.append('acme-app-7-aaa', {
      type: 'agent.tool',
      step: 1,
      callId: 'c1',
      tool: 'run',
      ok: false,
      resultBytes: 10,
      durationMs: 5,
      error: IMG,
    });
    await ledger.append('acme-app-7-aaa', {
      type: 'tests',
      command: 'npm test',
      passed: false,
      failedTests: ['adds two numbers'],
      round: 1,
    });
    await ledger.append('acme-app-7-aaa', {
      type: 'tests',
      command: 'npm test',
      passed: true,
      failedTests: [],
      round: 2,
    });
    await ledger.append('acme-app-7-aaa', { type: 'pull_request', number: 12, created: true, draft: false });
    await ledger.setState('acme-app-7-aaa', {
      status: 'succeeded',
      step: 'publish',
      title: `add() ${SCRIPT} ${IMG}`,
      tokens: 1234,
      costUsd: 0.0123,
      pullRequest: 12,
    });
    await ledger.append('acme-app-7-aaa', {
      type: 'run.finished',
      status: 'succeeded',
      tokens: 1234,
      costUsd: 0.0123,
    });
    await new Promise((r) => setTimeout(r, 5));
    await ledger.setState('acme-app-8-bbb', {
      status: 'running',
      workflow: 'resolve-issue',
      subject: 'acme/app#8',
      step: 'code',
      costUsd: -1,
    });
  });

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('lists recent runs newest first with status, step, tokens, cost and PR link', async () => {
    const res = await app.request('/runs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const body = await pageText(res);
    expect(body.indexOf('acme-app-8-bbb')).toBeLessThan(body.indexOf('acme-app-7-aaa'));
    expect(body).toContain('href="/runs/acme-app-7-aaa"');
    expect(body).toContain('<span class="badge s-succeeded">succeeded</span>');
    expect(body).toContain('<span class="badge s-running">running</span>');
    expect(body).toContain('1,234');
    expect(body).toContain('$0.0123');
    expect(body).toContain('unknown'); // costUsd -1
    expect(body).toContain('href="https://github.example/acme/app/pull/12">#12</a>');
    // A running run on the page: it refreshes itself (no script).
    expect(body).toContain('http-equiv="refresh"');
    expectEscaped(body);
  });

  it('says so when there are no runs', async () => {
    const empty = new Hono();
    mountDashboard(empty, {
      ledger: new RunLedger(redis, `${prefix}x`),
      logger: createLogger({ level: 'silent' }),
    });
    const body = await pageText(await empty.request('/runs'));
    expect(body).toContain('No runs yet');
  });

  it('shows one run: state, plan, tests, PR and a timeline row per event', async () => {
    const res = await app.request('/runs/acme-app-7-aaa');
    expect(res.status).toBe(200);
    const body = await pageText(res);
    expect(body).toContain('href="https://github.example/acme/app/issues/7">acme/app#7</a>');
    expect(body).toContain('<li>Fix add() in src/math.js</li>');
    expect(body).toContain('Round 2: <code>npm test</code> passed');
    expect(body).toContain('<code>adds two numbers</code>');
    expect(body).toContain('href="https://github.example/acme/app/pull/12">#12</a>');
    expect(body).not.toContain('http-equiv="refresh"');
    const timeline = body.slice(body.indexOf('<h2>Timeline</h2>'));
    expect(timeline.match(/<tr class/g)).toHaveLength(11);
    expect(timeline).toContain('#12 opened');
    expect(timeline).toContain('plan in 1.2 s');
    expectEscaped(body);
  });

  it('serves the same data as JSON', async () => {
    const list = (await (await app.request('/api/runs')).json()) as { runs: Array<Record<string, unknown>> };
    expect(list.runs.map((r) => r.runId)).toEqual(['acme-app-8-bbb', 'acme-app-7-aaa']);
    expect(list.runs[1]).toMatchObject({
      status: 'succeeded',
      subject: 'acme/app#7',
      tokens: 1234,
      costUsd: 0.0123,
      pullRequest: 12,
    });
    expect(list.runs[0]).toMatchObject({ costUsd: null, step: 'code' });
    expect((await (await app.request('/api/runs?limit=1')).json()) as unknown).toMatchObject({
      runs: [{ runId: 'acme-app-8-bbb' }],
    });

    const res = await app.request('/api/runs/acme-app-7-aaa');
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { run: Record<string, unknown>; events: StoredRunEvent[] };
    expect(detail.run).toMatchObject({ runId: 'acme-app-7-aaa', status: 'succeeded', pullRequest: 12 });
    expect(detail.events.map((e) => e.type)).toContain('plan');
    expect(detail.events).toHaveLength(11);
  });

  it('answers 404 for an unknown run, escaping the id it echoes', async () => {
    const res = await app.request(`/runs/${encodeURIComponent(SCRIPT)}`);
    expect(res.status).toBe(404);
    const body = await pageText(res);
    expect(body).toContain('Run not found');
    expect(body).not.toContain('<script');
    expect(body).toContain('&lt;script&gt;');
    const api = await app.request('/api/runs/nope');
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'run not found', runId: 'nope' });
  });
});
