import {
  HttpError,
  listReply,
  notFound,
  numberParam,
  repoParam,
  requireActor,
  type RequestContext,
  type Router,
} from './http.js';
import { installationJson } from './serialize-checks.js';
import { APP_PERMISSIONS, appJson, repoJson } from './serialize.js';
import type { HookDelivery } from './types.js';
import type { WebhookSender } from './webhooks.js';

/** Endpoints that need the App's JWT answer 401 otherwise, as GitHub does. */
function requireJwt(ctx: RequestContext): void {
  if (ctx.auth.kind !== 'app')
    throw new HttpError(401, 'A JSON web token could not be decoded', {}, { 'www-authenticate': 'Bearer' });
  if (!ctx.state.app) throw notFound();
}

function deliveryItem(d: HookDelivery): Record<string, unknown> {
  return {
    id: d.id,
    guid: d.guid,
    delivered_at: d.deliveredAt,
    redelivery: d.redelivery,
    duration: d.duration,
    status: d.status,
    status_code: d.statusCode,
    event: d.event,
    action: d.action,
    installation_id: d.installationId,
    repository_id: d.repositoryId,
    throttled_at: null,
  };
}

export function registerAppRoutes(router: Router, webhooks: WebhookSender): void {
  router.on('GET', '/app', (ctx) => {
    requireJwt(ctx);
    return { body: appJson(ctx.state) };
  });

  router.on('GET', '/app/installations', (ctx) => {
    requireJwt(ctx);
    return listReply(ctx, [...ctx.state.installations.values()], (i) => installationJson(ctx.state, i));
  });

  router.on('GET', '/app/installations/:id', (ctx) => {
    requireJwt(ctx);
    const installation = ctx.state.installationById(numberParam(ctx, 'id'));
    if (!installation) throw notFound();
    return { body: installationJson(ctx.state, installation) };
  });

  router.on('POST', '/app/installations/:id/access_tokens', (ctx) => {
    requireJwt(ctx);
    const installation = ctx.state.installationById(numberParam(ctx, 'id'));
    if (!installation) throw notFound();
    const minted = ctx.state.mintInstallationToken(installation);
    return {
      status: 201,
      body: {
        token: minted.token,
        expires_at: new Date(minted.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: APP_PERMISSIONS,
        repository_selection: 'all',
      },
    };
  });

  router.on('GET', '/repos/:owner/:repo/installation', (ctx) => {
    requireJwt(ctx);
    const repo = ctx.state.repo(ctx.params.owner ?? '', ctx.params.repo ?? '');
    const installation = repo && ctx.state.installations.get(repo.owner.login.toLowerCase());
    if (!installation) throw notFound();
    return { body: installationJson(ctx.state, installation) };
  });

  for (const path of ['/users/:owner/installation', '/orgs/:owner/installation']) {
    router.on('GET', path, (ctx) => {
      requireJwt(ctx);
      const installation = ctx.state.installations.get((ctx.params.owner ?? '').toLowerCase());
      if (!installation) throw notFound();
      return { body: installationJson(ctx.state, installation) };
    });
  }

  router.on('GET', '/installation/repositories', (ctx) => {
    const actor = requireActor(ctx);
    const installation = actor.installation;
    if (!installation) throw new HttpError(403, 'This endpoint requires an installation access token');
    const repos = [...ctx.state.repos.values()].filter((r) => r.owner.id === installation.account.id);
    const page = listReply(ctx, repos, (r) => repoJson(ctx.state, r));
    return {
      ...page,
      body: { total_count: repos.length, repository_selection: 'all', repositories: page.body },
    };
  });

  // GitHub pages deliveries with an opaque cursor; here the cursor is the id to continue below.
  router.on('GET', '/app/hook/deliveries', (ctx) => {
    requireJwt(ctx);
    const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page')) || 30));
    const cursor = Number(ctx.query.get('cursor')) || Number.POSITIVE_INFINITY;
    const all = [...webhooks.deliveries].filter((d) => d.id < cursor).sort((a, b) => b.id - a.id);
    const page = all.slice(0, perPage);
    const last = page.at(-1);
    const headers: Record<string, string> =
      all.length > perPage && last
        ? {
            link: `<${ctx.state.urls.api}/app/hook/deliveries?per_page=${perPage}&cursor=${last.id}>; rel="next"`,
          }
        : {};
    return { body: page.map(deliveryItem), headers };
  });

  router.on('GET', '/app/hook/deliveries/:id', (ctx) => {
    requireJwt(ctx);
    const delivery = webhooks.deliveries.find((d) => d.id === numberParam(ctx, 'id'));
    if (!delivery) throw notFound();
    return {
      body: {
        ...deliveryItem(delivery),
        url: '',
        request: {
          headers: { 'X-GitHub-Event': delivery.event, 'X-GitHub-Delivery': delivery.guid },
          payload: JSON.parse(delivery.body) as unknown,
        },
        response: { headers: {}, payload: null },
      },
    };
  });

  router.on('POST', '/app/hook/deliveries/:id/attempts', (ctx) => {
    requireJwt(ctx);
    if (!webhooks.redeliver(numberParam(ctx, 'id'))) throw notFound();
    return { status: 202, body: {} };
  });

  router.on('GET', '/repos/:owner/:repo/hooks', (ctx) => {
    repoParam(ctx);
    return { body: [] };
  });
}
