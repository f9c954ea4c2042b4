import { setTimeout as delay } from 'node:timers/promises';
import type { Octokit } from '@octokit/rest';
import type { Logger } from '../util/logger.js';
import type { Credentials } from './credentials.js';
import { GitHubAbortedError, GitHubApiError } from './errors.js';
import { decideRetry, type RetryPolicy } from './retry-policy.js';

export interface RequestHookOptions {
  readonly credentials: Credentials;
  readonly retry?: RetryPolicy;
  /** Per attempt. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Waits between attempts (tests inject a recorder). @defaultValue timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly logger?: Logger;
  readonly now?: () => number;
}

interface HookOptions {
  readonly method?: string;
  readonly url: string;
  readonly owner?: unknown;
  readonly repo?: unknown;
  readonly headers: Record<string, string | number | undefined>;
  readonly request?: { signal?: AbortSignal | null } & Record<string, unknown>;
}

interface ErrorLike {
  readonly status?: number;
  readonly name?: string;
  readonly message?: string;
  readonly cause?: unknown;
  readonly response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

/**
 * One wrap around every Octokit request: sets the authorization (token, installation token or App
 * JWT), adds a per-attempt timeout joined with the caller's AbortSignal, retries 5xx, network errors
 * and rate limits as {@link decideRetry} says, and turns the final failure into a redacted
 * {@link GitHubApiError}.
 */
export function installRequestHook(octokit: Octokit, options: RequestHookOptions): void {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  // before-after-hook binds the same options object into every wrap, so an outer wrap must
  // change it in place: a new object passed to `request()` would be ignored by inner wraps.
  // The signals this hook made, mapped to the caller's own: an options object can come back to the
  // hook (pagination reuses it), and our timeout must never be taken for the caller's signal.
  const callerOf = new WeakMap<AbortSignal, AbortSignal | undefined>();
  octokit.hook.wrap('request', async (request, raw) => {
    const route = raw as unknown as HookOptions;
    const method = route.method ?? 'GET';
    const given = route.request?.signal ?? undefined;
    const caller = given && callerOf.has(given) ? callerOf.get(given) : given;
    // A copy: `request` may be the Octokit instance's shared defaults (paginate passes those), and
    // a signal written into them would leak into every later request.
    const requestOptions = { ...(route.request ?? {}) } as NonNullable<HookOptions['request']>;
    Object.assign(raw, { request: requestOptions });
    const explicitAuth = Boolean(route.headers.authorization);
    for (let attempt = 0; ; attempt++) {
      if (caller?.aborted) throw new GitHubAbortedError(route.url, { cause: caller.reason });
      if (!explicitAuth)
        route.headers.authorization = await options.credentials.authorization(route, { signal: caller });
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
      callerOf.set(signal, caller);
      requestOptions.signal = signal;
      try {
        return await request(raw);
      } catch (err) {
        const e = err as ErrorLike;
        if (caller?.aborted) throw new GitHubAbortedError(route.url, { cause: err });
        const timedOut = timeout.aborted;
        const status = timedOut || e.name === 'AbortError' ? 0 : (e.status ?? 0);
        const responseHeaders = e.response?.headers ?? {};
        const decision = decideRetry({ status, headers: responseHeaders }, attempt, options.retry, now());
        if (decision.retry) {
          options.logger?.warn(
            { method, route: route.url, status, attempt, delayMs: decision.delayMs },
            'GitHub request failed; retrying',
          );
          await sleep(decision.delayMs, caller);
          continue;
        }
        const data = e.response?.data as { message?: unknown } | undefined;
        const why =
          typeof data?.message === 'string'
            ? data.message
            : timedOut
              ? 'timed out'
              : (e.message ?? 'unknown error');
        throw new GitHubApiError(
          `GitHub ${method} ${route.url} failed${status ? ` with ${status}` : ''}: ${why}`,
          {
            status,
            method,
            route: route.url,
            requestId: responseHeaders['x-github-request-id']?.toString(),
            retryAfterMs: decision.retryAfterMs,
            timedOut,
          },
          { cause: err },
        );
      }
    }
  });
}
