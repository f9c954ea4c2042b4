import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, validationFailed, type Router } from './http.js';
import { APP_PERMISSIONS, userJson } from './serialize.js';
import type { ForgeState } from './state.js';
import type { ForgeUser } from './types.js';
import type { WebhookSender } from './webhooks.js';

/** A manifest the user confirmed, waiting for its `code` to be converted (once, within an hour). */
interface PendingApp {
  readonly manifest: Manifest;
  readonly owner: ForgeUser;
  readonly expiresAt: number;
}

interface Manifest {
  readonly name?: string;
  readonly url?: string;
  readonly description?: string;
  readonly hook_attributes?: { readonly url?: string; readonly active?: boolean };
  readonly redirect_url?: string;
  readonly default_permissions?: Record<string, string>;
  readonly default_events?: string[];
}

const pendingByState = new WeakMap<ForgeState, Map<string, PendingApp>>();
const pendingFor = (state: ForgeState): Map<string, PendingApp> => {
  let pending = pendingByState.get(state);
  if (!pending) pendingByState.set(state, (pending = new Map()));
  return pending;
};

const NEW_APP = /^\/(?:organizations\/([^/]+)\/)?settings\/apps\/new(\/confirm)?$/;

/**
 * GitHub's App manifest flow, web half: a form `POST /settings/apps/new?state=…` (or
 * `/organizations/<org>/settings/apps/new`) with a `manifest` field shows a page with a
 * "Create GitHub App" button; pressing it redirects to the manifest's `redirect_url` with a one-time
 * `code` and the `state`. The forge has no sign-in: the App belongs to `org`, or else to the first
 * user account the forge knows (`octocat` when it knows none).
 * Returns false when the request is not for this flow.
 */
export function handleManifestWeb(state: ForgeState, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://forge.invalid');
  const match = NEW_APP.exec(url.pathname);
  if (!match || req.method !== 'POST') return false;
  const [, org, confirm] = match;
  void (async () => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const manifestText = form.get('manifest') ?? '';
    let manifest: Manifest;
    try {
      manifest = JSON.parse(manifestText) as Manifest;
    } catch {
      return html(res, 400, '<h1>Invalid manifest</h1><p>The <code>manifest</code> field is not JSON.</p>');
    }
    const problems = manifestProblems(state, manifest);
    if (problems.length > 0)
      return html(
        res,
        422,
        `<h1>Invalid manifest</h1><ul>${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`,
      );
    const owner = ownerFor(state, org);
    const stateParam = confirm ? (form.get('state') ?? '') : (url.searchParams.get('state') ?? '');
    if (!confirm) {
      const action = `${url.pathname}/confirm`;
      return html(
        res,
        200,
        `<h1>Create GitHub App for ${esc(owner.login)}</h1>
<p>Name: <strong id="app-name">${esc(manifest.name ?? '')}</strong></p>
<p>Webhook URL: <code>${esc(manifest.hook_attributes?.url ?? '')}</code></p>
<p>Permissions: ${esc(
          Object.entries(manifest.default_permissions ?? {})
            .map(([k, v]) => `${k}: ${v}`)
            .join(', '),
        )}</p>
<p>Events: ${esc((manifest.default_events ?? []).join(', '))}</p>
<form method="post" action="${esc(action)}">
<input type="hidden" name="manifest" value="${esc(manifestText)}">
<input type="hidden" name="state" value="${esc(stateParam)}">
<button type="submit" id="create-app">Create GitHub App for ${esc(owner.login)}</button>
</form>`,
      );
    }
    const code = randomBytes(20).toString('hex');
    pendingFor(state).set(code, { manifest, owner, expiresAt: state.now() + 3_600_000 });
    const redirect = new URL(manifest.redirect_url ?? `${state.urls.web}/settings/apps`);
    redirect.searchParams.set('code', code);
    if (stateParam) redirect.searchParams.set('state', stateParam);
    res.writeHead(302, { location: redirect.toString() });
    res.end();
  })().catch((err: unknown) => html(res, 500, `<h1>Server error</h1><pre>${esc(String(err))}</pre>`));
  return true;
}

/** `POST /app-manifests/{code}/conversions`: creates the App (and its webhook) and returns its credentials. */
export function registerManifestRoutes(router: Router, webhooks: WebhookSender): void {
  router.on('POST', '/app-manifests/:code/conversions', (ctx) => {
    const pending = pendingFor(ctx.state);
    const code = ctx.params.code ?? '';
    const app = pending.get(code);
    pending.delete(code);
    if (!app || app.expiresAt < ctx.state.now()) throw new HttpError(404, 'Not Found');
    if (ctx.state.app)
      throw validationFailed({ resource: 'Integration', code: 'custom', message: 'the forge holds one App' });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const name = app.manifest.name ?? 'app';
    const slug = slugOf(name);
    const created = ctx.state.registerApp({ id: ctx.state.nextId(), slug, name, key: pem, owner: app.owner });
    const webhookSecret = randomBytes(20).toString('hex');
    const hook = app.manifest.hook_attributes;
    if (hook?.url && hook.active !== false) webhooks.configure({ url: hook.url, secret: webhookSecret });
    const clientId = `Iv23${randomBytes(8).toString('hex')}`;
    return {
      status: 201,
      body: {
        id: created.id,
        slug,
        node_id: Buffer.from(`App${created.id}`).toString('base64'),
        owner: userJson(ctx.state, app.owner),
        name,
        description: app.manifest.description ?? '',
        external_url: app.manifest.url ?? '',
        html_url: `${ctx.state.urls.web}/apps/${slug}`,
        created_at: created.createdAt,
        updated_at: created.createdAt,
        permissions: app.manifest.default_permissions ?? APP_PERMISSIONS,
        events: app.manifest.default_events ?? [],
        client_id: clientId,
        client_secret: randomBytes(20).toString('hex'),
        webhook_secret: webhookSecret,
        pem,
      },
    };
  });
}

function manifestProblems(state: ForgeState, m: Manifest): string[] {
  const problems: string[] = [];
  if (typeof m.name !== 'string' || m.name.trim() === '') problems.push('name is required');
  else if (state.user(`${slugOf(m.name)}[bot]`)) problems.push(`Name "${m.name}" is already in use`);
  if (typeof m.url !== 'string' || !/^https?:\/\//.test(m.url)) problems.push('url must be an http(s) URL');
  if (m.hook_attributes?.active !== false && !/^https?:\/\//.test(m.hook_attributes?.url ?? ''))
    problems.push('hook_attributes.url must be an http(s) URL');
  if (m.redirect_url !== undefined && !/^https?:\/\//.test(m.redirect_url))
    problems.push('redirect_url must be an http(s) URL');
  return problems;
}

function ownerFor(state: ForgeState, org: string | undefined): ForgeUser {
  if (org) return state.user(org) ?? state.createUser({ login: org, type: 'Organization' }).user;
  const first = [...state.users.values()].find((u) => u.type === 'User');
  return first ?? state.createUser({ login: 'octocat' }).user;
}

const slugOf = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'app';

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(res: ServerResponse, status: number, body: string): void {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>GitHub Apps</title></head><body>${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page);
}
