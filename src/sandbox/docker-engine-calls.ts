import type Docker from 'dockerode';

/**
 * How long a removal may take before it is given up: a forced removal kills and unmounts, which
 * takes seconds on a loaded engine, never minutes. A removal given up on throws; the run's release
 * logs it and the start-up sweep removes what is left.
 */
export const REMOVE_TIMEOUT_MS = 60_000;

/**
 * How long creating or starting a container (or creating a network) may take: seconds on a loaded
 * engine, never a minute. An engine that does not answer in time fails the acquire with a message
 * naming the call, instead of the run hanging until its own timeout.
 */
export const ENGINE_CALL_TIMEOUT_MS = 60_000;

/**
 * Runs one engine call under the caller's signal and a timeout of its own. A timeout becomes
 * `the Docker engine did not <what> within <n> s`; the caller's abort and every other error stay as
 * they were.
 */
export async function withEngineTimeout<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await call(signal ? AbortSignal.any([signal, timeout]) : timeout);
  } catch (err) {
    if (!timeout.aborted || signal?.aborted) throw err;
    throw new Error(`the Docker engine did not ${what} within ${timeoutMs / 1000} s`, { cause: err });
  }
}

/** Removes a container with its anonymous volumes; "already gone" is success. */
export async function removeContainer(
  docker: Docker,
  id: string,
  timeoutMs = REMOVE_TIMEOUT_MS,
): Promise<void> {
  try {
    await docker
      .getContainer(id)
      .remove({ force: true, v: true, abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (statusOf(err) === 404) return;
    // 409: removal already in progress by someone else (a concurrent release or sweep).
    if (statusOf(err) === 409) return;
    throw unanswered(err, `container ${id.slice(0, 12)}`, timeoutMs);
  }
}

export async function removeNetwork(
  docker: Docker,
  id: string,
  timeoutMs = REMOVE_TIMEOUT_MS,
): Promise<void> {
  try {
    await docker.getNetwork(id).remove({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw unanswered(err, `network ${id.slice(0, 12)}`, timeoutMs);
  }
}

/** A removal the engine did not answer in time, named; any other error as it was. */
function unanswered(err: unknown, what: string, timeoutMs: number): unknown {
  const name = err instanceof Error ? err.name : '';
  if (name !== 'TimeoutError' && name !== 'AbortError') return err;
  return new Error(`the Docker engine did not remove ${what} within ${timeoutMs / 1000} s`, { cause: err });
}

export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number(err.statusCode) : undefined;
}
