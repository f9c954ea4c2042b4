import type { IncomingMessage } from 'node:http';
import type { ForgeState } from './state.js';
import type { Actor, ForgeRepo, Role } from './types.js';

const DOCS = 'https://docs.github.com/rest';

/** An error answered as GitHub's JSON error body `{ message, documentation_url, status }`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    return { message: this.message, ...this.extra, documentation_url: DOCS, status: String(this.status) };
  }
}

export const notFound = (): HttpError => new HttpError(404, 'Not Found');

/** 422 with GitHub's `errors` array. */
export function validationFailed(...errors: Array<Record<string, unknown>>): HttpError {
  return new HttpError(422, 'Validation Failed', { errors });
}

/** How the request authenticated. */
export type RequestAuth =
  { readonly kind: 'none' } | { readonly kind: 'actor'; readonly actor: Actor } | { readonly kind: 'app' };

export interface Reply {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface RequestContext {
  readonly method: string;
  /** Path below the REST base, e.g. `/repos/o/r/issues/1`. */
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly rawBody: unknown;
  readonly auth: RequestAuth;
  readonly state: ForgeState;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: string[];
  readonly handler: Handler;
}

/** A tiny method + path router: `:name` matches one segment, `*name` the rest. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/[:*](\w+)/g, (token, name: string) => {
      names.push(name);
      return token.startsWith('*') ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  match(
    method: string,
    path: string,
  ): { handler: Handler; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : null;
  }
}

/** Reads a request body up to `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 26_214_400): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'Payload too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The acting user, or 401 like GitHub. */
export function requireActor(ctx: RequestContext): Actor {
  if (ctx.auth.kind === 'actor') return ctx.auth.actor;
  throw new HttpError(401, 'Requires authentication');
}

export function actorOf(ctx: RequestContext): Actor | undefined {
  return ctx.auth.kind === 'actor' ? ctx.auth.actor : undefined;
}

/** The `:owner/:repo` repository when the caller may see it (404 otherwise, as GitHub hides private repos). */
export function repoParam(ctx: RequestContext): ForgeRepo {
  const repo = ctx.state.repo(ctx.params.owner ?? '', ctx.params.repo ?? '');
  if (!repo || !ctx.state.can(repo, actorOf(ctx), 'read')) throw notFound();
  return repo;
}

/** Throws 403 unless the actor holds `role` on `repo`. */
export function requireRole(ctx: RequestContext, repo: ForgeRepo, role: Role): Actor {
  const actor = requireActor(ctx);
  if (!ctx.state.can(repo, actor, role)) {
    throw new HttpError(
      403,
      actor.installation
        ? 'Resource not accessible by integration'
        : 'Resource not accessible by personal access token',
    );
  }
  return actor;
}

export function numberParam(ctx: RequestContext, name: string): number {
  const value = Number(ctx.params[name]);
  if (!Number.isInteger(value) || value <= 0) throw notFound();
  return value;
}

export function stringField(ctx: RequestContext, name: string, required: true): string;
export function stringField(ctx: RequestContext, name: string, required?: false): string | undefined;
export function stringField(ctx: RequestContext, name: string, required = false): string | undefined {
  const value = ctx.body[name];
  if (value === undefined || value === null) {
    if (required) throw validationFailed({ resource: 'Request', field: name, code: 'missing_field' });
    return undefined;
  }
  if (typeof value !== 'string')
    throw validationFailed({ resource: 'Request', field: name, code: 'invalid' });
  return value;
}

/** Pages `items` by `per_page` (default 30, max 100) and `page`, with GitHub's `Link` header. */
export function paginate<T>(
  ctx: RequestContext,
  items: readonly T[],
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page')) || 30));
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const query = new URLSearchParams(ctx.query);
    query.set('per_page', String(perPage));
    query.set('page', String(n));
    return `<${ctx.state.urls.api}${ctx.path}?${query.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

/** A paginated JSON list reply. */
export function listReply<T>(ctx: RequestContext, items: readonly T[], toJson: (item: T) => unknown): Reply {
  const { page, headers } = paginate(ctx, items);
  return { body: page.map(toJson), headers };
}
