import type { GitHubAuthConfig } from '../config/load-config.js';
import { redact } from '../util/redact.js';
import { GitHubApiError } from './errors.js';
import type { GitHubHost } from './types.js';

/** Why a first call to GitHub failed, decided on error codes and statuses, never message text. */
export type GitHubAccessFailure =
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'credentials'; readonly status: number; readonly why: string }
  | { readonly kind: 'other'; readonly why: string };

const UNREACHABLE: Record<string, string> = {
  ENOTFOUND: 'its host name does not resolve (DNS)',
  EAI_AGAIN: 'its host name does not resolve (DNS, temporary failure)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was reset',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is self-signed (set NODE_EXTRA_CA_CERTS)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified (set NODE_EXTRA_CA_CERTS)',
};

/** Classifies the error of a failed GitHub call (walks the `cause` chain for a system error code). */
export function classifyGitHubFailure(err: unknown): GitHubAccessFailure {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return { kind: 'refused' };
    if (code && UNREACHABLE[code]) return { kind: 'unreachable', reason: UNREACHABLE[code] };
  }
  if (err instanceof GitHubApiError) {
    if (err.details.timedOut) return { kind: 'unreachable', reason: 'no answer before the timeout' };
    if (err.status === 401 || err.status === 403)
      return { kind: 'credentials', status: err.status, why: err.message };
  }
  return { kind: 'other', why: err instanceof Error ? err.message : String(err) };
}

/** GitHub could not be reached at all (DNS, routing, timeout, TLS). */
export class GitHubUnreachableError extends Error {
  override readonly name = 'GitHubUnreachableError';
  constructor(apiUrl: string, reason: string, options?: { cause?: unknown }) {
    super(
      `Cannot reach GitHub at ${apiUrl} (GITHUB_API_URL): ${reason}. Check GITHUB_API_URL and this machine's network, DNS or proxy.`,
      options,
    );
  }
}

/** Something answered at the GitHub address but refused the connection (nothing listens there). */
export class GitHubRefusedError extends Error {
  override readonly name = 'GitHubRefusedError';
  constructor(apiUrl: string, options?: { cause?: unknown }) {
    super(
      `GitHub at ${apiUrl} (GITHUB_API_URL) refused the connection: nothing listens on ${hostPort(apiUrl)}. Check the host and port in GITHUB_API_URL.`,
      options,
    );
  }
}

/** GitHub answered, and said the configured credentials are wrong. */
export class GitHubCredentialsError extends Error {
  override readonly name = 'GitHubCredentialsError';
  constructor(apiUrl: string, auth: GitHubAuthConfig['kind'], status: number, options?: { cause?: unknown }) {
    super(
      auth === 'token'
        ? `GitHub at ${apiUrl} rejected GITHUB_TOKEN (HTTP ${status}): the token is wrong, expired or revoked. Create a new one (classic: the repo scope; fine-grained: contents, issues and pull requests read and write) and set GITHUB_TOKEN.`
        : `GitHub at ${apiUrl} rejected the App's credentials (HTTP ${status}): GITHUB_APP_ID and the private key (GITHUB_PRIVATE_KEY / GITHUB_PRIVATE_KEY_PATH) do not belong to the same App, or the key was revoked.`,
      options,
    );
  }
}

/** GitHub answered something unexpected to an authenticated "who am I" call. */
export class GitHubAccessError extends Error {
  override readonly name = 'GitHubAccessError';
  constructor(apiUrl: string, why: string, options?: { cause?: unknown }) {
    super(redact(`GitHub at ${apiUrl} (GITHUB_API_URL) did not accept the first call: ${why}`), options);
  }
}

/**
 * Calls GitHub once as the configured identity and returns its login, or throws the one error
 * that says which of unreachable, refused or bad credentials it is.
 */
export async function checkGitHubAccess(
  host: GitHubHost,
  apiUrl: string,
  auth: GitHubAuthConfig['kind'],
  signal?: AbortSignal,
): Promise<string> {
  try {
    return await host.getAuthenticatedLogin({ signal });
  } catch (err) {
    const failure = classifyGitHubFailure(err);
    switch (failure.kind) {
      case 'unreachable':
        throw new GitHubUnreachableError(apiUrl, failure.reason, { cause: err });
      case 'refused':
        throw new GitHubRefusedError(apiUrl, { cause: err });
      case 'credentials':
        throw new GitHubCredentialsError(apiUrl, auth, failure.status, { cause: err });
      case 'other':
        throw new GitHubAccessError(apiUrl, failure.why, { cause: err });
    }
  }
}

function hostPort(apiUrl: string): string {
  const u = new URL(apiUrl);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}
