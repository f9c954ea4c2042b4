import type Docker from 'dockerode';

/**
 * How long a removal may take before it is given up: a forced removal kills and unmounts, which
 * takes seconds on a loaded engine, never minutes. A removal given up on throws; the run's release
 * logs it and the start-up sweep removes what is left.
 */
export const REMOVE_TIMEOUT_MS = 60_000;

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
