import type Docker from 'dockerode';

/** Removes a container with its anonymous volumes; "already gone" is success. */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    if (statusOf(err) === 404) return;
    // 409: removal already in progress by someone else (a concurrent release or sweep).
    if (statusOf(err) === 409) return;
    throw err;
  }
}

export async function removeNetwork(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getNetwork(id).remove();
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw err;
  }
}

export function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number(err.statusCode) : undefined;
}
