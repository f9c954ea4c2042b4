import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './http.js';
import { randomToken, type ForgeState } from './state.js';

/** The forge's one OAuth client (a GitHub App's client id and secret). */
export interface ForgeOAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

interface PendingCode {
  readonly login: string;
  readonly redirectUri: string;
  readonly expiresAt: number;
}

interface OAuthState {
  client?: ForgeOAuthClient;
  readonly codes: Map<string, PendingCode>;
}

const byState = new WeakMap<ForgeState, OAuthState>();
const oauthOf = (state: ForgeState): OAuthState => {
  let o = byState.get(state);
  if (!o) byState.set(state, (o = { codes: new Map() }));
  return o;
};

/** Registers the OAuth client that `/login/oauth/*` accepts (tests pick its id and secret). */
export function configureOAuthClient(state: ForgeState, client: ForgeOAuthClient): void {
  oauthOf(state).client = client;
}

/**
 * GitHub's OAuth web flow, as the forge plays it: `GET /login/oauth/authorize` shows a page with a
 * button per user account ("Sign in as alice"; the forge has no passwords), pressing one redirects
 * to `redirect_uri` with a one-time `code` and the `state`; `POST /login/oauth/access_token`
 * exchanges the code (with the client secret) for a user token that `GET /user` accepts.
 * Returns false when the request is not for this flow.
 */
export function handleOAuthWeb(state: ForgeState, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://forge.invalid');
  if (url.pathname !== '/login/oauth/authorize' && url.pathname !== '/login/oauth/access_token') return false;
  void (async () => {
    const oauth = oauthOf(state);
    const body = req.method === 'POST' ? (await readBody(req)).toString('utf8') : '';
    const form = parseForm(body, req.headers['content-type']);
    const param = (name: string) => form.get(name) ?? url.searchParams.get(name) ?? '';
    const clientId = param('client_id');
    if (url.pathname === '/login/oauth/access_token') {
      const answer = (fields: Record<string, string>) => {
        const json = (req.headers.accept ?? '').includes('json');
        res.writeHead(200, {
          'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
        });
        res.end(json ? JSON.stringify(fields) : new URLSearchParams(fields).toString());
      };
      if (req.method !== 'POST') return notFound(res);
      if (
        !oauth.client ||
        clientId !== oauth.client.clientId ||
        param('client_secret') !== oauth.client.clientSecret
      )
        return answer({
          error: 'incorrect_client_credentials',
          error_description: 'The client_id and/or client_secret passed are incorrect.',
        });
      const code = param('code');
      const pending = oauth.codes.get(code);
      oauth.codes.delete(code);
      const redirect = param('redirect_uri');
      if (!pending || pending.expiresAt < state.now() || (redirect && redirect !== pending.redirectUri))
        return answer({
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
        });
      const token = randomToken('gho_');
      state.userTokens.set(token, pending.login.toLowerCase());
      return answer({ access_token: token, token_type: 'bearer', scope: '' });
    }
    if (!oauth.client || clientId !== oauth.client.clientId) return notFound(res);
    const redirectUri = param('redirect_uri');
    if (!/^https?:\/\//.test(redirectUri))
      return page(res, 400, '<h1>redirect_uri must be an http(s) URL</h1>');
    const login = req.method === 'POST' ? param('login') : '';
    const user = login ? state.user(login) : undefined;
    if (!user || user.type !== 'User') {
      const users = [...state.users.values()].filter((u) => u.type === 'User');
      const hidden = (name: string) => `<input type="hidden" name="${name}" value="${esc(param(name))}">`;
      return page(
        res,
        200,
        `<h1>Authorize droidworks</h1><p>Sign in to continue to <code>${esc(redirectUri)}</code>.</p>
<form method="post" action="/login/oauth/authorize">${['client_id', 'redirect_uri', 'state'].map(hidden).join('')}
${users.map((u) => `<p><button type="submit" name="login" value="${esc(u.login)}" id="sign-in-${esc(u.login)}">Sign in as ${esc(u.login)}</button></p>`).join('\n')}
</form>`,
      );
    }
    const code = randomBytes(10).toString('hex');
    oauth.codes.set(code, { login: user.login, redirectUri, expiresAt: state.now() + 600_000 });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    if (param('state')) back.searchParams.set('state', param('state'));
    res.writeHead(302, { location: back.toString() });
    res.end();
  })().catch((err: unknown) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`forge OAuth error: ${String(err)}`);
  });
  return true;
}

function parseForm(body: string, contentType: string | undefined): URLSearchParams {
  if (!body) return new URLSearchParams();
  if ((contentType ?? '').includes('json')) {
    const json = JSON.parse(body) as Record<string, unknown>;
    return new URLSearchParams(Object.entries(json).map(([k, v]): [string, string] => [k, String(v)]));
  }
  return new URLSearchParams(body);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message: 'Not Found' }));
}

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>${body}</body></html>`,
  );
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
