/** Docker refused or failed an operation the sandbox needs (create, start, exec…). */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    readonly operation: string,
    readonly runId: string,
    options?: { cause?: unknown },
  ) {
    super(`sandbox ${operation} failed for run ${runId}`, options);
  }
}

/** A service sidecar did not report healthy in time. */
export class ServiceHealthError extends Error {
  override readonly name = 'ServiceHealthError';
  constructor(
    readonly runId: string,
    readonly service: string,
    readonly lastOutput: string,
  ) {
    super(`service ${service} of run ${runId} did not become healthy`);
  }
}

/** An option the chosen backend cannot honour safely (e.g. a network allow-list on Docker). */
export class SandboxUnsupportedError extends Error {
  override readonly name = 'SandboxUnsupportedError';
  constructor(
    readonly backend: string,
    readonly option: string,
  ) {
    super(`the ${backend} sandbox backend does not support ${option}`);
  }
}

/** `exec` on a sandbox that was released. */
export class SandboxReleasedError extends Error {
  override readonly name = 'SandboxReleasedError';
  constructor(readonly runId: string) {
    super(`sandbox of run ${runId} was released`);
  }
}

/** The sandbox image is not on the Docker host (no image is ever pulled): retrying cannot help. */
export class SandboxImageMissingError extends Error {
  override readonly name = 'SandboxImageMissingError';
  constructor(
    readonly image: string,
    options?: { cause?: unknown },
  ) {
    super(`the runner image ${image} is missing: run \`droidworks doctor\``, options);
  }
}
