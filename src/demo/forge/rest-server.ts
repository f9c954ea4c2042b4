import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/logger.js';
import { looksLikeJwt, verifyAppJwt } from './app-jwt.js';
import { HttpError, Router, readBody, type RequestAuth, type RequestContext } from './http.js';
import type { ForgeState } from './state.js';
import type { Actor } from './types.js';

/** One REST request as the forge saw it (for assertions). */
export interface RecordedRequest {
  readonly method: string;
  /** Below the REST base, without the query, e.g. `/repos/o/r/issues/1/comments`. */
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly status: number;
  /** Login of the acting user (`<slug>[bot]` for installations), `app` for JWT, null anonymous. */
  readonly login: string | null;
}

/** A canned failure answered instead of the next matching request(s). */
export interface Fault {
  readonly method: string;
  readonly path: string | RegExp;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  remaining: number;
}

/** Extracts a token from `token X`, `Bearer X` or Basic auth (password, or user with `x-oauth-basic`). */
export function tokenFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const direct = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
  if (direct) return direct[1];
  const basic = /^basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password && password !== 'x-oauth-basic' ? password : user || undefined;
}

/** The actor behind a git or REST request's credentials, if any. */
export function actorFromRequest(state: ForgeState, req: IncomingMessage): Actor | null {
  const token = tokenFromHeader(req.headers.authorization);
  return token ? state.actorForToken(token) : null;
}

function defaultFaultBody(status: number, headers: Record<string, string>): unknown {
  if (
    (status === 403 || status === 429) &&
    ('retry-after' in headers || headers['x-ratelimit-remaining'] === '0')
  )
    return {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
      documentation_url:
        'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      status: String(status),
    };
  return { message: status >= 500 ? 'Server Error' : 'Fault injected', status: String(status) };
}

/**
 * Serves the REST API below `basePath`: authenticates, applies injected faults, routes, answers
 * GitHub-style JSON (errors included) and records every request.
 */
export class RestServer {
  readonly router = new Router();
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];

  constructor(
    private readonly state: ForgeState,
    private readonly basePath: string,
    private readonly logger?: Logger,
  ) {}

  failNext(
    fault: Omit<Fault, 'remaining' | 'body' | 'headers'> & {
      headers?: Record<string, string>;
      body?: unknown;
      times?: number;
    },
  ): void {
    const headers = Object.fromEntries(
      Object.entries(fault.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    this.faults.push({
      method: fault.method.toUpperCase(),
      path: fault.path,
      status: fault.status,
      headers,
      body: fault.body ?? defaultFaultBody(fault.status, headers),
      remaining: fault.times ?? 1,
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://forge.invalid');
    const path = url.pathname.slice(this.basePath.length) || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    let auth: RequestAuth = { kind: 'none' };
    let body: unknown;
    let status = 500;
    try {
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new HttpError(400, `Problems parsing JSON (${(err as Error).message})`);
        }
      }
      const fault = this.takeFault(method, path);
      if (fault) {
        status = fault.status;
        return this.send(res, fault.status, fault.body, fault.headers);
      }
      auth = this.authenticate(req);
      const match = this.router.match(method, path);
      if (!match || match === 'method') throw new HttpError(404, 'Not Found');
      const ctx: RequestContext = {
        method,
        path,
        params: match.params,
        query: url.searchParams,
        body:
          body !== null && typeof body === 'object' && !Array.isArray(body)
            ? (body as Record<string, unknown>)
            : {},
        rawBody: body,
        auth,
        state: this.state,
      };
      const reply = await match.handler(ctx);
      status = reply.status ?? 200;
      this.send(res, status, reply.body, reply.headers ?? {});
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        this.send(res, err.status, err.toBody(), err.headers);
      } else {
        status = 500;
        this.logger?.error({ err, method, path }, 'forge handler failed');
        this.send(res, 500, { message: 'Server Error', status: '500' }, {});
      }
    } finally {
      const login = auth.kind === 'actor' ? auth.actor.user.login : auth.kind === 'app' ? 'app' : null;
      this.requests.push({ method, path, query: url.search, body, status, login });
    }
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === '*' || f.method === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private authenticate(req: IncomingMessage): RequestAuth {
    const header = req.headers.authorization;
    if (!header) return { kind: 'none' };
    const token = tokenFromHeader(header);
    if (!token) throw new HttpError(401, 'Bad credentials');
    const app = this.state.app;
    if (looksLikeJwt(token)) {
      if (!app) throw new HttpError(401, 'A JSON web token could not be decoded');
      const check = verifyAppJwt(token, app.publicKeyPem, app.id, Date.now());
      if (!check.ok) throw new HttpError(401, check.reason);
      return { kind: 'app' };
    }
    const actor = this.state.actorForToken(token);
    if (!actor) throw new HttpError(401, 'Bad credentials');
    return { kind: 'actor', actor };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const common: Record<string, string> = {
      'x-github-request-id': randomUUID().toUpperCase(),
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': '1',
      'x-ratelimit-resource': 'core',
    };
    if (status === 204 || body === undefined) {
      res.writeHead(status, { ...common, ...headers });
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...common,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }
}
