/** A git command failed. `args` and `stderr` are already redacted. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(
      `git ${args.join(' ')} failed (${timedOut ? 'timed out' : `exit ${exitCode}`}): ${stderr.trim().slice(-2000)}`,
    );
  }
}

/** The remote refused the push even after one rebase onto the remote branch. */
export class PushRejectedError extends Error {
  override readonly name = 'PushRejectedError';
  constructor(
    readonly branch: string,
    readonly reason: string,
  ) {
    super(`push of ${branch} was rejected: ${reason}`);
  }
}

/** A mirror lock could not be taken in time (another worker holds it). */
export class MirrorLockTimeoutError extends Error {
  override readonly name = 'MirrorLockTimeoutError';
  constructor(readonly mirror: string) {
    super(`timed out waiting for the lock of ${mirror}`);
  }
}

/** Handing the checkout to the sandbox user failed. */
export class ChownError extends Error {
  override readonly name = 'ChownError';
  constructor(
    readonly dir: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`chown of ${dir} failed (exit ${exitCode}): ${stderr.trim()}`);
  }
}
