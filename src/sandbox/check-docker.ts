import Docker from 'dockerode';
import type { Config } from '../config/load-config.js';

/** The Docker engine the sandboxes need does not answer. */
export class DockerUnreachableError extends Error {
  override readonly name = 'DockerUnreachableError';
  constructor(
    /** `DOCKER_HOST`, or the socket used when it is unset. */
    readonly endpoint: string,
    readonly fromEnv: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot reach the Docker engine at ${endpoint}${fromEnv ? ' (DOCKER_HOST)' : ' (the default socket; DOCKER_HOST is unset)'}: ${innermost(options?.cause)}. Start dockerd, give this user access to the socket (the docker group), or fix DOCKER_HOST; DROIDWORKS_SANDBOX=process runs without isolation (development only).`,
      options,
    );
  }
}

export interface DockerStatus {
  readonly version: string;
  /** Whether `settings.image` is present. */
  readonly imagePresent: boolean;
}

/**
 * Asks the Docker engine for its version and whether the runner image is there, within
 * `timeoutMs`; throws {@link DockerUnreachableError} naming `DOCKER_HOST` or the socket.
 */
export async function checkDocker(
  settings: Pick<Config['sandbox'], 'image' | 'dockerHost'>,
  options: { timeoutMs?: number; docker?: Docker } = {},
): Promise<DockerStatus> {
  const endpoint = settings.dockerHost ?? '/var/run/docker.sock';
  const fromEnv = settings.dockerHost !== undefined;
  let docker: Docker;
  let version: string;
  try {
    // The client reads DOCKER_HOST itself; `timeout` bounds each request.
    docker = options.docker ?? new Docker({ timeout: options.timeoutMs ?? 5000 });
    version = (await docker.version()).Version;
  } catch (err) {
    throw new DockerUnreachableError(endpoint, fromEnv, { cause: err });
  }
  const imagePresent = await docker
    .getImage(settings.image)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return false;
        throw new DockerUnreachableError(endpoint, fromEnv, { cause: err });
      },
    );
  return { version, imagePresent };
}

function innermost(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (!(e instanceof Error)) return String(e ?? 'unknown error');
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such socket';
  if (code === 'EACCES') return 'permission denied on the socket';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'no answer within the timeout';
  return e.message.replace(/\.+$/, '');
}
