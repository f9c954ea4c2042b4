import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

/**
 * Who is looking at the dashboard. `admin`: signed in with the static token (sees everything, may
 * press every button, sees the queues). `user`: signed in with GitHub (sees and acts on the
 * repositories they can write to). `guard`: no sign-in configured, let in by the basic-auth or
 * loopback guard (reads everything, presses nothing: there is no session to bind a CSRF token to).
 */
export type Viewer =
  | { readonly kind: 'admin'; readonly csrf: string }
  | { readonly kind: 'user'; readonly login: string; readonly csrf: string }
  | { readonly kind: 'guard' };

/** What the signed session cookie holds: no token, only who and until when. */
interface SessionData {
  readonly k: 'admin' | 'user';
  readonly login?: string;
  readonly csrf: string;
  /** Expiry, ms since the epoch. */
  readonly exp: number;
}

export const SESSION_COOKIE = 'dw_session';
/** The OAuth `state` of a sign-in in progress, bound to the browser that started it. */
export const OAUTH_STATE_COOKIE = 'dw_oauth_state';
/** How long a sign-in lasts. @defaultValue 12 hours */
export const SESSION_TTL_MS = 12 * 3600_000;

/**
 * The key that signs session cookies, derived from secrets every gateway replica shares (so any
 * replica accepts any session): changing the admin token or the OAuth secret signs everyone out.
 */
export function sessionSecret(webhookSecret: string, token?: string, oauthSecret?: string): string {
  return createHmac('sha256', webhookSecret)
    .update(`droidworks dashboard sessions\0${token ?? ''}\0${oauthSecret ?? ''}`)
    .digest('hex');
}

const cookieOptions = (c: Context, maxAgeSec: number) =>
  ({
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: new URL(c.req.url).protocol === 'https:',
    maxAge: maxAgeSec,
  }) as const;

/** Starts a session for `who` (a fresh CSRF token each time). */
export async function startSession(
  c: Context,
  secret: string,
  who: { kind: 'admin' } | { kind: 'user'; login: string },
  now = Date.now(),
): Promise<void> {
  const data: SessionData = {
    k: who.kind,
    ...(who.kind === 'user' ? { login: who.login } : {}),
    csrf: randomBytes(24).toString('base64url'),
    exp: now + SESSION_TTL_MS,
  };
  await setSignedCookie(
    c,
    SESSION_COOKIE,
    Buffer.from(JSON.stringify(data)).toString('base64url'),
    secret,
    cookieOptions(c, SESSION_TTL_MS / 1000),
  );
}

/** The signed-in viewer, or undefined (no cookie, a forged or expired one). */
export async function readSession(c: Context, secret: string, now = Date.now()): Promise<Viewer | undefined> {
  const raw = await getSignedCookie(c, secret, SESSION_COOKIE);
  if (!raw) return undefined;
  let data: Partial<SessionData>;
  try {
    data = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<SessionData>;
  } catch {
    return undefined; // signed by us yet unreadable: only an older format; treat as signed out
  }
  if (typeof data.exp !== 'number' || data.exp <= now || typeof data.csrf !== 'string') return undefined;
  if (data.k === 'admin') return { kind: 'admin', csrf: data.csrf };
  if (data.k === 'user' && typeof data.login === 'string' && data.login)
    return { kind: 'user', login: data.login, csrf: data.csrf };
  return undefined;
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** Sets the OAuth `state` cookie (signed, short-lived) and returns the value to send to GitHub. */
export async function startOAuthState(c: Context, secret: string): Promise<string> {
  const state = randomBytes(18).toString('base64url');
  await setSignedCookie(c, OAUTH_STATE_COOKIE, state, secret, cookieOptions(c, 600));
  return state;
}

/** Whether `state` is the one this browser started with; the cookie is used up either way. */
export async function checkOAuthState(
  c: Context,
  secret: string,
  state: string | undefined,
): Promise<boolean> {
  const expected = await getSignedCookie(c, secret, OAUTH_STATE_COOKIE);
  deleteCookie(c, OAUTH_STATE_COOKIE, { path: '/' });
  return (
    typeof expected === 'string' && expected.length > 0 && state !== undefined && sameText(expected, state)
  );
}

/** Constant-time comparison of two strings. Pure. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a submitted CSRF token is the viewer's. Pure. */
export function csrfOk(viewer: Viewer, submitted: unknown): boolean {
  return viewer.kind !== 'guard' && typeof submitted === 'string' && sameText(viewer.csrf, submitted);
}
