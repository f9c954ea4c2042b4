import { Octokit } from '@octokit/rest';
import { GitHubApiError } from './errors.js';

/** The App GitHub created from a manifest, with its credentials (shown once: store them). */
export interface CreatedApp {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  /** The App's page, e.g. `https://github.com/apps/<slug>`; installing starts at `<htmlUrl>/installations/new`. */
  readonly htmlUrl: string;
  readonly owner: string;
  /** PEM private key for the App's JWTs. */
  readonly pem: string;
  readonly webhookSecret: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Exchanges the one-time `code` GitHub sent to the manifest's `redirect_url` for the new App's
 * credentials (`POST /app-manifests/{code}/conversions`, unauthenticated). Codes expire after an
 * hour and work once: a failure is not retried.
 */
export async function convertAppManifest(
  apiUrl: string,
  code: string,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<CreatedApp> {
  const octokit = new Octokit({ baseUrl: apiUrl, userAgent: 'droidworks-setup' });
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 30_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  const route = '/app-manifests/{code}/conversions';
  let data;
  try {
    ({ data } = await octokit.rest.apps.createFromManifest({ code, request: { signal } }));
  } catch (err) {
    const status =
      typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 0;
    const why =
      status === 404 || status === 422
        ? 'the code is unknown, used or expired (codes work once, within an hour): run setup again'
        : err instanceof Error
          ? err.message
          : String(err);
    throw new GitHubApiError(
      `GitHub did not convert the App manifest: ${why}`,
      {
        status,
        method: 'POST',
        route,
      },
      { cause: err },
    );
  }
  const missing = (['id', 'slug', 'pem', 'webhook_secret', 'client_id', 'client_secret'] as const).filter(
    (k) => data[k] === undefined || data[k] === null || data[k] === '',
  );
  if (missing.length > 0)
    throw new GitHubApiError(`GitHub's manifest conversion lacks ${missing.join(', ')}`, {
      status: 201,
      method: 'POST',
      route,
    });
  const owner = data.owner && 'login' in data.owner ? data.owner.login : '';
  return {
    id: data.id,
    slug: data.slug ?? '',
    name: data.name,
    htmlUrl: data.html_url,
    owner,
    pem: data.pem,
    webhookSecret: data.webhook_secret ?? '',
    clientId: data.client_id,
    clientSecret: data.client_secret,
  };
}
