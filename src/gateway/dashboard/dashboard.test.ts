import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startForge, type Forge } from '../../demo/forge/start-forge.js';
import { configureOAuthClient } from '../../demo/forge/oauth-web-flow.js';
import { createGitHubHost } from '../../github/create-github-host.js';
import type { GitHubHost } from '../../github/types.js';
import { RunLedger, type StoredRunEvent } from '../../ledger/index.js';
import type { IntakeJob } from '../../queue/jobs.js';
import { createLogger } from '../../util/logger.js';
import { mountDashboard, type DashboardOptions } from './mount-dashboard.js';
import { sessionSecret } from './sessions.js';

const redisUrl = inject('redisUrl');
const logger = createLogger({ level: 'silent' });

/** The page with whitespace collapsed (the templates are formatted by prettier). */
async function pageText(res: Response): Promise<string> {
  return (await res.text()).replace(/\s+/g, ' ').replace(/ >/g, '>');
}

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';

/** Fails when `body` holds markup an attacker wrote, and checks the escaped text is there instead. */
function expectEscaped(body: string): void {
  expect(body.match(/<script/g)).toHaveLength(1); // the dashboard's own script, nothing else
  expect(body).toMatch(/<script src="\/dashboard\/assets\/app\.[0-9a-f]+\.js" defer><\/script>/);
  expect(body).not.toContain('<img');
  expect(body).not.toMatch(/<[^>]*onerror/i);
  expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
}

const PASSWORD = 'a-long-dashboard-password';
const basic = { authorization: `Basic ${Buffer.from(`droidworks:${PASSWORD}`).toString('base64')}` };

async function seed(ledger: RunLedger): Promise<void> {
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
    subjectType: 'issue',
    by: 'alice',
    trigger: 'label',
    queuedAt: Date.now() - 65_000,
    step: 'code',
    costUsd: -1,
  });
}

let redis: Redis;
let prefix: string;
let ledger: RunLedger;

beforeEach(async () => {
  redis = new Redis(redisUrl);
  prefix = `t${randomUUID().slice(0, 8)}`;
  ledger = new RunLedger(redis, prefix);
  await seed(ledger);
});

afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function dashboard(extra: Partial<DashboardOptions> = {}): Hono {
  const app = new Hono();
  mountDashboard(app, {
    ledger,
    logger,
    webUrl: 'https://github.example',
    password: PASSWORD,
    commandPrefix: '/droid',
    adminLogin: 'droidworks[bot]',
    pollMs: 20,
    ...extra,
  });
  return app;
}

describe('dashboard behind the fallback guard (basic auth, read only)', () => {
  it('asks for the password', async () => {
    expect((await dashboard().request('/runs')).status).toBe(401);
    expect((await dashboard().request('/api/runs/acme-app-7-aaa')).status).toBe(401);
  });

  it('lists runs newest first with trigger, who, state, step, duration, tokens, cost and links', async () => {
    const res = await dashboard().request('/runs', { headers: basic });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const body = await pageText(res);
    expect(body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1" />');
    expect(body.indexOf('acme-app-8-bbb')).toBeLessThan(body.indexOf('acme-app-7-aaa'));
    expect(body).toContain('href="/runs/acme-app-7-aaa"');
    expect(body).toContain('data-status="succeeded"');
    expect(body).toContain('data-status="running"');
    expect(body).toContain('<td data-label="Trigger">label</td> <td data-label="By">alice</td>');
    expect(body).toMatch(/<td data-label="Duration" class="num">1 min [56] s<\/td>/);
    expect(body).toContain('1,234');
    expect(body).toContain('$0.0123');
    expect(body).toContain('unknown'); // costUsd -1
    expect(body).toContain('href="https://github.example/acme/app/pull/12">#12</a>');
    expect(body).toContain('data-live-list="/runs?repo=&amp;workflow=&amp;state=&amp;rows=1"');
    expectEscaped(body);
  });

  it('filters by repository, workflow and state', async () => {
    const app = dashboard();
    const running = await pageText(await app.request('/runs?state=running', { headers: basic }));
    expect(running).toContain('acme-app-8-bbb');
    expect(running).not.toContain('href="/runs/acme-app-7-aaa"');
    const active = await pageText(await app.request('/runs?state=active&repo=acme/app', { headers: basic }));
    expect(active).toContain('acme-app-8-bbb');
    const other = await pageText(await app.request('/runs?repo=acme/other', { headers: basic }));
    expect(other).toContain('No runs match these filters');
    const rows = await app.request('/runs?workflow=resolve-issue&rows=1', { headers: basic });
    const text = await rows.text();
    expect(text).not.toContain('<html');
    expect(text.match(/<tr data-run=/g)).toHaveLength(2);
  });

  it('says so when there are no runs', async () => {
    const app = dashboard({ ledger: new RunLedger(redis, `${prefix}x`) });
    expect(await pageText(await app.request('/runs', { headers: basic }))).toContain('No runs yet');
  });

  it('shows one run: plan, transcript with tool calls and tests, PR; no buttons for the guard', async () => {
    const res = await dashboard().request('/runs/acme-app-7-aaa', { headers: basic });
    expect(res.status).toBe(200);
    const body = await pageText(res);
    expect(body).toContain('href="https://github.example/acme/app/issues/7">acme/app#7</a>');
    expect(body).toContain('<li>Fix add() in src/math.js</li>');
    expect(body).toContain('<code>adds two numbers</code>');
    expect(body).toContain('href="https://github.example/acme/app/pull/12">#12</a>');
    const transcript = body.slice(body.indexOf('id="transcript"'));
    expect(transcript.match(/<li class="[^"]*" data-type=/g)).toHaveLength(11);
    expect(transcript).toContain('#12 opened');
    expect(transcript).toContain('plan in 1.2 s');
    expect(body).not.toContain('data-action=');
    expect(body).toMatch(/data-live-run="\/runs\/acme-app-7-aaa\/events\?after=\d+-\d+"/);
    expectEscaped(body);
  });

  it('serves the same data as JSON', async () => {
    const app = dashboard();
    const list = (await (await app.request('/api/runs', { headers: basic })).json()) as {
      runs: Array<Record<string, unknown>>;
    };
    expect(list.runs.map((r) => r.runId)).toEqual(['acme-app-8-bbb', 'acme-app-7-aaa']);
    expect(list.runs[1]).toMatchObject({
      status: 'succeeded',
      subject: 'acme/app#7',
      tokens: 1234,
      costUsd: 0.0123,
      pullRequest: 12,
    });
    expect(list.runs[0]).toMatchObject({ costUsd: null, step: 'code', by: 'alice', trigger: 'label' });
    const one = (await (await app.request('/api/runs?limit=1', { headers: basic })).json()) as {
      runs: unknown[];
    };
    expect(one.runs).toEqual([expect.objectContaining({ runId: 'acme-app-8-bbb' })]);
    const res = await app.request('/api/runs/acme-app-7-aaa', { headers: basic });
    const detail = (await res.json()) as { run: Record<string, unknown>; events: StoredRunEvent[] };
    expect(detail.run).toMatchObject({ runId: 'acme-app-7-aaa', status: 'succeeded', pullRequest: 12 });
    expect(detail.events).toHaveLength(11);
  });

  it('answers 404 for an unknown run, escaping the id it echoes', async () => {
    const res = await dashboard().request(`/runs/${encodeURIComponent(SCRIPT)}`, { headers: basic });
    expect(res.status).toBe(404);
    const body = await pageText(res);
    expect(body).toContain('Run not found');
    expect(body).toContain('&lt;script&gt;');
  });

  it('streams the ledger as server-sent events from the last id, then ends with the run', async () => {
    const app = dashboard();
    const first = (await ledger.events('acme-app-7-aaa'))[8]!;
    const res = await app.request(`/runs/acme-app-7-aaa/events?after=${first.id}`, { headers: basic });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text(); // the run is over: the stream ends by itself
    const kinds = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(kinds).toEqual(['run-event', 'run-event', 'summary', 'end']);
    expect(text).toContain('"type":"pull_request"');
    expect(text).toContain('"type":"run.finished"');
    expect(text).not.toContain('"type":"plan"');
  });

  it('mounts the queues board only for the admin', async () => {
    const app = new Hono();
    mountDashboard(app, { ledger, logger, password: PASSWORD, commandPrefix: '/droid', adminLogin: 'x' });
    expect((await app.request('/admin/queues', { headers: basic })).status).toBe(404); // no queues given
  });
});

/** Cookies a response set, as a `cookie` header for the next request. */
function cookiesOf(res: Response, jar: Map<string, string> = new Map()): Map<string, string> {
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const i = pair.indexOf('=');
    const value = pair.slice(i + 1);
    if (value === '' || /Max-Age=0/i.test(line)) jar.delete(pair.slice(0, i));
    else jar.set(pair.slice(0, i), value);
  }
  return jar;
}
const cookieHeader = (jar: Map<string, string>) => ({
  cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
});

describe('dashboard with sign-in (admin token, GitHub OAuth) and controls', () => {
  const TOKEN = 'admin-token-0123456789abcdef0123';
  const client = { clientId: 'Iv23test', clientSecret: 'oauth-client-secret-0123456789' };
  let forge: Forge;
  let github: GitHubHost;
  let submitted: IntakeJob[];
  let app: Hono;

  beforeAll(async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    forge = await startForge({ appId: 7, privateKey: pem, appSlug: 'droidworks' });
    await forge.createRepo({ owner: 'acme', name: 'app', files: { 'README.md': '# app\n' } });
    forge.createUser('alice');
    forge.createUser('rita');
    forge.setPermission('acme/app', 'alice', 'write');
    forge.setPermission('acme/app', 'rita', 'read');
    configureOAuthClient(forge.state, client);
    github = createGitHubHost(
      {
        apiUrl: forge.url,
        auth: { kind: 'app', appId: '7', privateKey: pem },
        webhookSecret: 's',
        botLogin: 'droidworks[bot]',
      },
      { logger },
    );
  });
  afterAll(async () => forge.close());

  beforeEach(() => {
    submitted = [];
    app = dashboard({
      password: undefined,
      signIn: {
        token: TOKEN,
        oauth: { ...client, webUrl: forge.webUrl, apiUrl: forge.url },
        secret: sessionSecret('webhook-secret', TOKEN, client.clientSecret),
      },
      permission: (repo, login) => github.getPermission(repo, login),
      submitCommand: async (job) => void submitted.push(job),
    });
  });

  async function signInWithToken(token = TOKEN): Promise<{ res: Response; jar: Map<string, string> }> {
    const res = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ token, next: '/runs/acme-app-8-bbb' }),
    });
    return { res, jar: cookiesOf(res) };
  }

  async function signInWithGitHub(login: string): Promise<Map<string, string>> {
    const start = await app.request('/login/github');
    expect(start.status).toBe(302);
    const jar = cookiesOf(start);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${forge.webUrl}/login/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(client.clientId);
    const chooser = await fetch(authorize);
    expect(await chooser.text()).toContain(`Sign in as ${login}`);
    const form = new URLSearchParams(authorize.searchParams);
    form.set('login', login);
    const back = await fetch(`${forge.webUrl}/login/oauth/authorize`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.pathname).toBe('/login/github/callback');
    const done = await app.request(callback.pathname + callback.search, { headers: cookieHeader(jar) });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/runs');
    return cookiesOf(done, jar);
  }

  it('sends anyone not signed in to the sign-in page, which offers both ways', async () => {
    const res = await app.request('/runs/acme-app-8-bbb');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?next=%2Fruns%2Facme-app-8-bbb');
    expect((await app.request('/api/runs')).status).toBe(401);
    expect((await app.request('/runs/acme-app-8-bbb/events')).status).toBe(401);
    const login = await pageText(await app.request('/login?next=/runs'));
    expect(login).toContain('Sign in with GitHub');
    expect(login).toContain('name="token"');
  });

  it('signs the admin in with the token into a signed HttpOnly SameSite=Lax cookie; a wrong or forged one gets nothing', async () => {
    const wrong = await signInWithToken('not-the-token-0123456789abcdef');
    expect(wrong.res.status).toBe(401);
    expect(wrong.jar.size).toBe(0);
    const { res, jar } = await signInWithToken();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/runs/acme-app-8-bbb');
    const set = res.headers.getSetCookie().join('\n');
    expect(set).toMatch(/dw_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax/);
    expect(set).not.toContain(TOKEN);
    expect((await app.request('/api/runs', { headers: cookieHeader(jar) })).status).toBe(200);
    const forged = new Map(jar);
    const [value = '', sig = ''] = decodeURIComponent(jar.get('dw_session')!).split('.');
    const data = JSON.parse(Buffer.from(value, 'base64url').toString()) as Record<string, unknown>;
    forged.set(
      'dw_session',
      encodeURIComponent(
        `${Buffer.from(JSON.stringify({ ...data, k: 'admin', exp: Date.now() + 1e9 })).toString('base64url')}.${sig}`,
      ),
    );
    expect((await app.request('/api/runs', { headers: cookieHeader(forged) })).status).toBe(401);
  });

  it('gives the admin cancel and retry buttons that queue exactly /droid cancel and /droid retry, with a CSRF token', async () => {
    const { jar } = await signInWithToken();
    const pageBody = await (await app.request('/runs/acme-app-8-bbb', { headers: cookieHeader(jar) })).text();
    expect(pageBody).toContain('data-action="cancel"');
    expect(pageBody).not.toContain('data-action="retry"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(pageBody)![1]!;
    const post = (
      path: string,
      form: Record<string, string>,
      headers: Record<string, string> = cookieHeader(jar),
    ) => app.request(path, { method: 'POST', body: new URLSearchParams(form), headers });

    expect((await post('/runs/acme-app-8-bbb/cancel', {})).status).toBe(403);
    expect((await post('/runs/acme-app-8-bbb/cancel', { csrf: `${csrf}x` })).status).toBe(403);
    expect((await post('/runs/acme-app-8-bbb/cancel', { csrf }, {})).status).toBe(401);
    expect(submitted).toEqual([]);

    const ok = await post('/runs/acme-app-8-bbb/cancel', { csrf });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/runs/acme-app-8-bbb?requested=cancel');
    expect(submitted).toEqual([
      expect.objectContaining({
        kind: 'command',
        event: 'dashboard',
        repo: { owner: 'acme', name: 'app' },
        subject: { type: 'issue', number: 8 },
        sender: { login: 'droidworks[bot]' },
        commands: ['/droid cancel'],
        dashboardAdmin: true,
        deliveryId: expect.stringMatching(/^dashboard-/),
      }),
    ]);
    const finished = await (await app.request('/runs/acme-app-7-aaa', { headers: cookieHeader(jar) })).text();
    expect(finished).toContain('data-action="retry"');
    expect((await post('/runs/acme-app-7-aaa/retry', { csrf })).status).toBe(303);
    expect(submitted[1]).toMatchObject({ commands: ['/droid retry'], subject: { type: 'issue', number: 7 } });
    expect((await app.request('/admin/queues', { headers: cookieHeader(jar) })).status).toBe(404); // none mounted here
  });

  it('signs a writer in through GitHub: their repository runs, with buttons that act as them', async () => {
    const jar = await signInWithGitHub('alice');
    const list = await pageText(await app.request('/runs', { headers: cookieHeader(jar) }));
    expect(list).toContain('href="/runs/acme-app-8-bbb"');
    expect(list).toContain('@alice');
    const pageBody = await (await app.request('/runs/acme-app-8-bbb', { headers: cookieHeader(jar) })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(pageBody)![1]!;
    expect(pageBody).toContain('data-action="cancel"');
    expect(pageBody).not.toContain('href="/admin/queues"');
    const res = await app.request('/runs/acme-app-8-bbb/cancel', {
      method: 'POST',
      body: new URLSearchParams({ csrf }),
      headers: cookieHeader(jar),
    });
    expect(res.status).toBe(303);
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ sender: { login: 'alice' }, commands: ['/droid cancel'] });
    expect(submitted[0]!.dashboardAdmin).toBeUndefined();
  });

  it('shows a reader nothing of a repository they cannot write to, and refuses their forged POST', async () => {
    const jar = await signInWithGitHub('rita');
    const list = await pageText(await app.request('/runs', { headers: cookieHeader(jar) }));
    expect(list).toContain('No runs yet in the repositories you can write to');
    expect(list).not.toContain('acme-app-8-bbb');
    const run = await app.request('/runs/acme-app-8-bbb', { headers: cookieHeader(jar) });
    expect(run.status).toBe(404);
    expect(await run.text()).not.toContain('data-action');
    const apiList = (await (await app.request('/api/runs', { headers: cookieHeader(jar) })).json()) as {
      runs: unknown[];
    };
    expect(apiList.runs).toEqual([]);
    const forged = await app.request('/runs/acme-app-8-bbb/cancel', {
      method: 'POST',
      body: new URLSearchParams({ csrf: 'guess' }),
      headers: cookieHeader(jar),
    });
    expect(forged.status).toBe(403);
    expect(submitted).toEqual([]);
  });

  it('refuses a callback whose state this browser did not start', async () => {
    const res = await app.request('/login/github/callback?code=abc&state=forged');
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie().join('')).not.toContain('dw_session=ey');
  });
});
