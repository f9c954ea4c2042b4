/**
 * GitHub's web sign-in (the OAuth web flow of a GitHub App's client): where to send the browser,
 * and the code exchange plus `GET /user` that tell who came back. The user's token is used for
 * that one request and then dropped: what they may see is asked of the App, not of them.
 */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Web root: `https://github.com` or a GHES root. */
  readonly webUrl: string;
  /** REST API root: `https://api.github.com` or `<GHES>/api/v3`. */
  readonly apiUrl: string;
}

/** The sign-in failed; `message` says why in words an operator can act on. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
}

/** The authorize URL the browser is sent to. Pure. */
export function authorizeUrl(client: OAuthClient, redirectUri: string, state: string): string {
  const u = new URL(`${client.webUrl}/login/oauth/authorize`);
  u.searchParams.set('client_id', client.clientId);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('state', state);
  u.searchParams.set('allow_signup', 'false');
  return u.toString();
}

/** Exchanges the code GitHub sent back for a user token and returns that user's login. */
export async function signedInLogin(
  client: OAuthClient,
  code: string,
  redirectUri: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const signal = options.signal ?? AbortSignal.timeout(10_000);
  let exchanged: Response;
  try {
    exchanged = await fetch(`${client.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code,
        redirect_uri: redirectUri,
      }),
      signal,
    });
  } catch (err) {
    throw new OAuthError(`could not reach ${client.webUrl} to finish the sign-in`, { cause: err });
  }
  const body = (await exchanged.json().catch(() => ({}))) as {
    access_token?: unknown;
    error?: unknown;
    error_description?: unknown;
  };
  if (!exchanged.ok || typeof body.access_token !== 'string')
    throw new OAuthError(
      `GitHub refused the sign-in code: ${String(body.error_description ?? body.error ?? exchanged.status)} (check GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET)`,
    );
  let user: Response;
  try {
    user = await fetch(`${client.apiUrl}/user`, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${body.access_token}`,
        'user-agent': 'droidworks',
      },
      signal,
    });
  } catch (err) {
    throw new OAuthError(`could not reach ${client.apiUrl} to read the signed-in user`, { cause: err });
  }
  const json = (await user.json().catch(() => ({}))) as { login?: unknown };
  if (!user.ok || typeof json.login !== 'string' || json.login === '')
    throw new OAuthError(`GitHub did not say who signed in (GET /user answered ${user.status})`);
  return json.login;
}
