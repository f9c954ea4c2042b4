import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { handleManifestWeb, registerManifestRoutes } from './app-manifest-flow.js';
import { handleGitHttp } from './git-http-server.js';
import { handleOAuthWeb } from './oauth-web-flow.js';
import { GitStore } from './git-store.js';
import { RestServer, actorFromRequest } from './rest-server.js';
import { registerAppRoutes } from './rest-app.js';
import { registerCheckRoutes } from './rest-checks.js';
import { ForgeActions, registerActionRoutes } from './rest-actions.js';
import { registerIssueRoutes } from './rest-issues.js';
import { registerGitRefRoutes } from './rest-git-refs.js';
import { registerPullRoutes } from './rest-pulls.js';
import { registerRepoRoutes } from './rest-repos.js';
import { ForgeState, type ForgeEvent } from './state.js';
import { repoJson, userJson } from './serialize.js';
import { nodeId } from './serialize.js';
import { refreshPulls } from './pull-ops.js';
import { ForgeTestApi } from './test-api.js';
import { WebhookSender, type WebhookTarget } from './webhooks.js';
import type { Actor } from './types.js';

export interface ForgeOptions {
  /** @defaultValue 0 (the OS picks a free port) */
  readonly port?: number;
  /** @defaultValue `127.0.0.1` */
  readonly host?: string;
  /** Where bare repositories live (`<dataDir>/git/<owner>/<repo>.git`). @defaultValue a temp dir, removed on close */
  readonly dataDir?: string;
  /** Where webhooks go; can be set later with `forge.webhooks.configure()`. */
  readonly webhook?: WebhookTarget;
  /** Registers a GitHub App with this id (JWT auth, installations, deliveries API). */
  readonly appId?: number;
  /** The App's private key (PEM); only its public half is kept, to verify JWTs. */
  readonly privateKey?: string;
  /** @defaultValue `droidworks` (bot login `droidworks[bot]`) */
  readonly appSlug?: string;
  /** Install the App on every repository owner automatically. @defaultValue true */
  readonly installAppEverywhere?: boolean;
  /** GitHub lets only Apps create check runs (403 for tokens); false relaxes that. @defaultValue true */
  readonly checkRunsRequireApp?: boolean;
  readonly logger?: Logger;
  /** Clock for timestamps and token expiry. @defaultValue Date.now */
  readonly now?: () => number;
}

/** A running forge: a GitHub-compatible REST API plus git smart HTTP on one loopback port. */
export interface Forge extends ForgeTestApi {
  /** REST base URL (GitHub Enterprise layout): `http://HOST:PORT/api/v3`. Use as Octokit `baseUrl`. */
  readonly url: string;
  /** Web root, e.g. `http://HOST:PORT`; `html_url` fields point below it. */
  readonly webUrl: string;
  readonly state: ForgeState;
  readonly webhooks: WebhookSender;
  readonly rest: RestServer;
  /** GitHub Actions workflow runs (dispatch, list, complete). */
  readonly actions: ForgeActions;
  /** Every event the forge emitted (also when no webhook URL is configured). */
  readonly events: ForgeEvent[];
  /**
   * Answers the next `times` (default 1) requests matching `method` (`*` for any) and `path` (below the
   * REST base: exact string or RegExp) with `status`. A 403/429 with `retry-after` gets GitHub's
   * secondary-rate-limit body.
   */
  failNext(
    method: string,
    path: string | RegExp,
    status: number,
    headers?: Record<string, string>,
    options?: { body?: unknown; times?: number },
  ): void;
  /** `http://HOST:PORT/<owner>/<repo>.git` */
  gitUrl(owner: string, repo: string): string;
  close(): Promise<void>;
}

/** Starts the forge (the test suite's GitHub simulator and the `droidworks demo` forge). */
export async function startForge(options: ForgeOptions = {}): Promise<Forge> {
  const host = options.host ?? '127.0.0.1';
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'dw-forge-')));
  const gitRoot = join(dataDir, 'git');
  const urls = { web: '', api: '' };
  const state = new ForgeState(urls, new GitStore(gitRoot), options.now);
  const rest = new RestServer(state, '/api/v3', options.logger);
  const webhooks = new WebhookSender(options.webhook, { logger: options.logger, now: options.now });
  registerRepoRoutes(rest.router);
  registerIssueRoutes(rest.router);
  registerPullRoutes(rest.router);
  registerCheckRoutes(rest.router);
  registerAppRoutes(rest.router, webhooks);
  registerManifestRoutes(rest.router, webhooks);
  const actions = new ForgeActions(state);
  registerActionRoutes(rest.router, actions);
  registerGitRefRoutes(rest.router);
  state.checkRunsRequireApp = options.checkRunsRequireApp ?? true;
  const events: ForgeEvent[] = [];
  state.onEvent((event) => {
    events.push(event);
    const installation = state.app
      ? state.installations.get(event.repo.owner.login.toLowerCase())
      : undefined;
    webhooks.enqueue({
      event: event.name,
      action: event.action ?? null,
      installationId: installation?.id ?? null,
      repositoryId: event.repo.id,
      payload: {
        ...(event.action ? { action: event.action } : {}),
        ...event.payload,
        repository: repoJson(state, event.repo),
        sender: userJson(state, event.sender),
        ...(installation
          ? { installation: { id: installation.id, node_id: nodeId('Installation', installation.id) } }
          : {}),
      },
    });
  });

  // Who last got write access per repository: pushes carry no identity to onPush.
  const pushers = new Map<string, Actor>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://forge.invalid').pathname;
    if (path === '/api/v3' || path.startsWith('/api/v3/')) {
      void rest.handle(req, res);
      return;
    }
    if (handleManifestWeb(state, req, res)) return;
    if (handleOAuthWeb(state, req, res)) return;
    const handled = handleGitHttp(
      {
        root: gitRoot,
        authorize: (r, access, repoPath) => {
          const [owner = '', name = ''] = repoPath.split('/');
          const repo = state.repo(owner, name);
          const actor = actorFromRequest(state, r) ?? undefined;
          if (!repo || !state.can(repo, actor, access)) return false;
          if (access === 'write' && actor) pushers.set(repoPath.toLowerCase(), actor);
          return true;
        },
        onPush: (repoPath) => {
          const [owner = '', name = ''] = repoPath.split('/');
          const repo = state.repo(owner, name);
          const actor = pushers.get(repoPath.toLowerCase());
          if (!repo || !actor) return;
          refreshPulls(state, repo, actor).catch((err: unknown) =>
            options.logger?.error(
              { err, repo: repoPath },
              'forge could not refresh pull requests after a push',
            ),
          );
        },
      },
      req,
      res,
    );
    if (!handled) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
    }
  };

  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('forge did not get a TCP address');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  urls.web = `http://${hostPart}:${address.port}`;
  urls.api = `${urls.web}/api/v3`;

  const api = new ForgeTestApi(state);
  if (options.appId !== undefined) {
    if (!options.privateKey) throw new Error('startForge: appId needs privateKey (PEM) to verify App JWTs');
    api.registerApp({
      id: options.appId,
      slug: options.appSlug ?? 'droidworks',
      key: options.privateKey,
      installEverywhere: options.installAppEverywhere ?? true,
    });
  }

  return Object.assign(api, {
    url: urls.api,
    webUrl: urls.web,
    state,
    webhooks,
    rest,
    actions,
    events,
    failNext: (
      method: string,
      path: string | RegExp,
      status: number,
      headers?: Record<string, string>,
      extra?: { body?: unknown; times?: number },
    ) => rest.failNext({ method, path, status, headers, ...extra }),
    gitUrl: (owner: string, repo: string) => `${urls.web}/${owner}/${repo}.git`,
    async close() {
      webhooks.pause();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  });
}
