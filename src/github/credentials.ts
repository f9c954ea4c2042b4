import { createAppAuth } from '@octokit/auth-app';
import type { Octokit } from '@octokit/rest';
import type { GitHubAuthConfig } from '../config/load-config.js';
import { GitHubAuthError } from './errors.js';
import type { CallOptions, GitCredentials, RepoRef } from './types.js';

/** The parts of a request the credentials look at. */
export interface RouteInfo {
  readonly url: string;
  readonly owner?: unknown;
  readonly repo?: unknown;
}

export interface Credentials {
  readonly kind: 'token' | 'app';
  /** The `authorization` header value for a request. */
  authorization(route: RouteInfo, options?: CallOptions): Promise<string>;
  gitToken(repo: RepoRef, options?: CallOptions): Promise<GitCredentials>;
}

export interface CredentialOptions {
  /** Mint a new installation token when the cached one expires within this. @defaultValue 300000 (5 min) */
  readonly refreshMarginMs?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** Routes GitHub only accepts with the App's JWT. */
const JWT_ROUTE = /^\/app(\/|$)|^\/(repos\/[^/]+\/[^/]+|orgs\/[^/]+|users\/[^/]+)\/installation$/;

export function createCredentials(
  auth: GitHubAuthConfig | undefined,
  request: Octokit['request'],
  options: CredentialOptions = {},
): Credentials {
  if (!auth)
    throw new GitHubAuthError(
      'no GitHub credentials: set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_PRIVATE_KEY',
    );
  if (auth.kind === 'token') {
    return {
      kind: 'token',
      authorization: async () => `token ${auth.token}`,
      gitToken: async () => ({ username: 'x-access-token', token: auth.token, expiresAt: undefined }),
    };
  }
  return appCredentials(auth, request, options);
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

function appCredentials(
  auth: Extract<GitHubAuthConfig, { kind: 'app' }>,
  request: Octokit['request'],
  options: CredentialOptions,
): Credentials {
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? 300_000;
  const appAuth = createAppAuth({ appId: auth.appId, privateKey: auth.privateKey, request });
  const installationIds = new Map<string, Promise<number>>();
  const tokens = new Map<number, CachedToken>();
  const minting = new Map<number, Promise<CachedToken>>();

  const jwt = async () => `bearer ${(await appAuth({ type: 'app' })).token}`;

  const installationId = (owner: string, repo: string, signal?: AbortSignal): Promise<number> => {
    const key = owner.toLowerCase();
    let id = installationIds.get(key);
    if (!id) {
      id = request('GET /repos/{owner}/{repo}/installation', {
        owner,
        repo,
        request: { signal },
      }).then(
        (res) => res.data.id,
        (err: unknown) => {
          installationIds.delete(key);
          throw new GitHubAuthError(
            `the GitHub App is not installed on ${owner}/${repo} (or cannot be reached)`,
            {
              cause: err,
            },
          );
        },
      );
      installationIds.set(key, id);
    }
    return id;
  };

  // Installation tokens live an hour; mint a fresh one `margin` before expiry (one mint at a time).
  const installationToken = async (repo: RepoRef, signal?: AbortSignal): Promise<CachedToken> => {
    const id = await installationId(repo.owner, repo.repo, signal);
    const cached = tokens.get(id);
    if (cached && cached.expiresAt - margin > now()) return cached;
    let pending = minting.get(id);
    if (!pending) {
      pending = appAuth({ type: 'installation', installationId: id, refresh: true })
        .then((result) => {
          const fresh = { token: result.token, expiresAt: Date.parse(result.expiresAt) };
          tokens.set(id, fresh);
          return fresh;
        })
        .finally(() => minting.delete(id));
      minting.set(id, pending);
    }
    return pending;
  };

  return {
    kind: 'app',
    async authorization(route, callOptions) {
      if (JWT_ROUTE.test(route.url)) return jwt();
      if (typeof route.owner !== 'string' || typeof route.repo !== 'string') return jwt();
      return `token ${(await installationToken({ owner: route.owner, repo: route.repo }, callOptions?.signal)).token}`;
    },
    async gitToken(repo, callOptions) {
      const minted = await installationToken(repo, callOptions?.signal);
      return { username: 'x-access-token', token: minted.token, expiresAt: new Date(minted.expiresAt) };
    },
  };
}
