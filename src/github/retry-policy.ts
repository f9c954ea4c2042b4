/** How the GitHub adapter retries one request. */
export interface RetryPolicy {
  /** Retries after the first attempt. @defaultValue 3 */
  readonly retries?: number;
  /** Backoff before the first retry of a 5xx; doubles each time. @defaultValue 1000 */
  readonly baseDelayMs?: number;
  /** A `retry-after` (or rate-limit reset) further away than this is not waited for. @defaultValue 60000 */
  readonly maxRetryAfterMs?: number;
}

/** What the policy needs to know about a failed attempt. */
export interface FailedAttempt {
  /** 0 when no response arrived (network error, timeout). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | undefined>>;
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly retryAfterMs?: number };

/** `retry-after` in seconds or as an HTTP date → milliseconds. */
export function parseRetryAfter(value: string | number | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Decides whether attempt number `attempt` (0-based) is retried and after how long.
 * Secondary rate limits (403/429 with `retry-after`) wait as told; an exhausted primary limit
 * (`x-ratelimit-remaining: 0`) waits until `x-ratelimit-reset`; 5xx and network errors back off
 * exponentially. Other 4xx are final. Decided on status and headers, never on message text.
 */
export function decideRetry(
  failure: FailedAttempt,
  attempt: number,
  policy: RetryPolicy = {},
  now = Date.now(),
): RetryDecision {
  const maxWait = policy.maxRetryAfterMs ?? 60_000;
  let wait: number | undefined;
  if (failure.status === 403 || failure.status === 429) {
    wait = parseRetryAfter(failure.headers['retry-after'], now);
    if (wait === undefined && String(failure.headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(failure.headers['x-ratelimit-reset']);
      if (Number.isFinite(reset)) wait = Math.max(0, reset * 1000 - now) + 1000;
    }
    if (wait === undefined) return failure.status === 429 ? backoff(attempt, policy) : { retry: false };
  } else if (failure.status === 0 || failure.status >= 500) {
    return backoff(attempt, policy);
  } else {
    return { retry: false };
  }
  if (attempt >= (policy.retries ?? 3) || wait > maxWait) return { retry: false, retryAfterMs: wait };
  return { retry: true, delayMs: wait };
}

function backoff(attempt: number, policy: RetryPolicy): RetryDecision {
  if (attempt >= (policy.retries ?? 3)) return { retry: false };
  return { retry: true, delayMs: (policy.baseDelayMs ?? 1000) * 2 ** attempt };
}
