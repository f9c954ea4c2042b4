import { parseRetryAfter } from './retry.js';
import { ModelError, type ProviderName } from './types.js';

/** The parts of the SDKs' error classes we rely on (both SDKs share the same Stainless shape). */
export interface SdkErrorClasses {
  readonly APIError: abstract new (...args: never[]) => Error & { status?: number; headers?: Headers };
  readonly APIUserAbortError: abstract new (...args: never[]) => Error;
  readonly APIConnectionError: abstract new (...args: never[]) => Error;
  readonly APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
}

/** Turns an SDK error (or anything thrown during a call) into a {@link ModelError} with a kind. */
export function classifySdkError(
  err: unknown,
  classes: SdkErrorClasses,
  where: { provider: ProviderName; model: string; signal?: AbortSignal },
): ModelError {
  if (err instanceof ModelError) return err;
  const base = { provider: where.provider, model: where.model, cause: err };
  const label = `${where.provider}:${where.model}`;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof classes.APIUserAbortError || where.signal?.aborted)
    return new ModelError(`${label}: request cancelled`, 'aborted', base);
  if (err instanceof classes.APIConnectionTimeoutError)
    return new ModelError(`${label}: request timed out`, 'timeout', base);
  if (err instanceof classes.APIConnectionError)
    return new ModelError(`${label}: connection failed: ${message}`, 'connection', base);
  if (err instanceof classes.APIError) {
    const status = err.status;
    const retryAfterMs = parseRetryAfter(err.headers);
    const data = { ...base, status, retryAfterMs };
    if (status === 429) return new ModelError(`${label}: rate limited (429)`, 'rate_limit', data);
    if (status === 408) return new ModelError(`${label}: request timeout (408)`, 'timeout', data);
    if (status !== undefined && status >= 500)
      return new ModelError(`${label}: server error (${status}): ${message}`, 'server', data);
    if (status === 401 || status === 403)
      return new ModelError(`${label}: not authorised (${status}); check the API key`, 'auth', data);
    if (status !== undefined && status >= 400)
      return new ModelError(`${label}: request rejected (${status}): ${message}`, 'bad_request', data);
  }
  return new ModelError(`${label}: ${message}`, 'other', base);
}
