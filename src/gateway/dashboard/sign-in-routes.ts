import type { Context, Env, Hono } from 'hono';
import { authorizeUrl, OAuthError, signedInLogin, type OAuthClient } from '../../github/oauth-user.js';
import type { Logger } from '../../util/logger.js';
import {
  checkOAuthState,
  csrfOk,
  endSession,
  readSession,
  sameText,
  startOAuthState,
  startSession,
} from './sessions.js';
import { page } from './views/layout.js';
import { signInBody } from './views/sign-in.js';

/** Where GitHub sends the browser back after sign-in: the App manifest's `callback_urls` names it. */
export const GITHUB_CALLBACK_PATH = '/login/github/callback';

export interface SignInOptions {
  /** `DROIDWORKS_DASHBOARD_TOKEN`: signs in as the admin. */
  readonly token: string | undefined;
  /** The App's OAuth client: signs in GitHub users. */
  readonly oauth: OAuthClient | undefined;
  readonly secret: string;
  /** `DROIDWORKS_PUBLIC_URL`: the callback URL GitHub redirects to is built on it (else on the request's origin). */
  readonly publicUrl: string | undefined;
  readonly logger: Logger;
}

/** Only same-site dashboard paths may be a `next` (no open redirect). Pure. */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/runs';
  return next;
}

/**
 * `GET /login` (the sign-in page), `POST /login` (the admin token), `GET /login/github` and its
 * callback (GitHub's web flow, `state` bound to the browser by a signed cookie), `POST /logout`.
 */
export function mountSignInRoutes<E extends Env>(app: Hono<E>, o: SignInOptions): void {
  const log = o.logger.child({ component: 'dashboard-sign-in' });
  const view = (c: Context, error?: string, status: 200 | 400 | 401 | 502 = 200) =>
    page(c, {
      status,
      title: 'Sign in · droidworks',
      body: signInBody({
        token: Boolean(o.token),
        github: Boolean(o.oauth),
        error,
        next: safeNext(c.req.query('next')),
      }),
    });
  const callbackUrl = (c: Context) =>
    `${(o.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '')}${GITHUB_CALLBACK_PATH}`;

  app.get('/login', (c) => view(c));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    if (!o.token || !token || !sameText(token, o.token)) {
      log.warn({ ip: c.req.header('x-forwarded-for') }, 'dashboard: wrong admin token');
      return view(c, 'That is not the admin token (DROIDWORKS_DASHBOARD_TOKEN).', 401);
    }
    await startSession(c, o.secret, { kind: 'admin' });
    log.info('dashboard: admin signed in');
    return c.redirect(safeNext(typeof form.next === 'string' ? form.next : undefined), 303);
  });

  app.get('/login/github', async (c) => {
    if (!o.oauth)
      return view(c, 'GitHub sign-in is not configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET).', 400);
    const state = await startOAuthState(c, o.secret);
    // GitHub sends the browser back to the runs list (the callback keeps no `next`).
    return c.redirect(authorizeUrl(o.oauth, callbackUrl(c), state), 302);
  });

  app.get(GITHUB_CALLBACK_PATH, async (c) => {
    if (!o.oauth) return view(c, 'GitHub sign-in is not configured.', 400);
    if (!(await checkOAuthState(c, o.secret, c.req.query('state'))))
      return view(c, 'The sign-in expired or did not start here; try again.', 400);
    const code = c.req.query('code');
    if (!code)
      return view(
        c,
        `GitHub did not sign you in: ${c.req.query('error_description') ?? c.req.query('error') ?? 'no code'}.`,
        400,
      );
    try {
      const login = await signedInLogin(o.oauth, code, callbackUrl(c));
      await startSession(c, o.secret, { kind: 'user', login });
      log.info({ login }, 'dashboard: GitHub user signed in');
      return c.redirect('/runs', 302);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      log.warn({ err }, 'dashboard: GitHub sign-in failed');
      return view(c, err.message, 502);
    }
  });

  app.post('/logout', async (c) => {
    const viewer = await readSession(c, o.secret);
    const form = await c.req.parseBody();
    if (viewer && !csrfOk(viewer, form.csrf)) return c.text('Refused: CSRF token missing or wrong.', 403);
    endSession(c);
    return c.redirect('/login', 303);
  });
}
