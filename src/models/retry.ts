import { setTimeout as delay } from 'node:timers/promises';
import { ModelError } from './types.js';

/** How the router retries one provider before falling over to the next. */
export interface RetryPolicy {
  /** Retries after the first attempt. @defaultValue 3 */
  readonly maxRetries?: number;
  /** Delay before the first retry; doubles each time. @defaultValue 1000 */
  readonly baseDelayMs?: number;
  /** Cap on a computed backoff delay. @defaultValue 30000 */
  readonly maxDelayMs?: number;
  /** A `retry-after` longer than this gives up on the provider instead of waiting. @defaultValue 60000 */
  readonly maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1). @defaultValue Math.random */
  readonly random?: () => number;
}

/**
 * Reads `retry-after-ms` (OpenAI and Anthropic send it) or `retry-after` (seconds or an HTTP date).
 * Returns milliseconds, or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (0-based), or `null` when the error is not
 * worth retrying or the retries are used up. Honours the server's `retry-after`; otherwise
 * exponential backoff with equal jitter.
 */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy = {}): number | null {
  if (!(err instanceof ModelError) || !err.isOutage) return null;
  if (attempt >= (policy.maxRetries ?? 3)) return null;
  const retryAfter = err.details.retryAfterMs;
  if (retryAfter !== undefined) return retryAfter <= (policy.maxRetryAfterMs ?? 60_000) ? retryAfter : null;
  const exp = Math.min(policy.maxDelayMs ?? 30_000, (policy.baseDelayMs ?? 1000) * 2 ** attempt);
  return Math.round(exp / 2 + (exp / 2) * (policy.random ?? Math.random)());
}

/** Waits `ms`, rejecting with an aborted {@link ModelError} if `signal` fires first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw new ModelError('model call cancelled', 'aborted', { cause: err });
    throw err;
  }
}

/**
 * A short-lived signal that follows `parent`, so per-request listeners (the SDKs add one per call
 * and keep it) do not pile up on a run-long signal. Call `dispose` when the request is over.
 */
export function childSignal(parent: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (!parent) return { signal: controller.signal, dispose: () => undefined };
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose: () => parent.removeEventListener('abort', onAbort) };
}
