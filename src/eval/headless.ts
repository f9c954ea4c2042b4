import type { Workspace } from '../workspace/workspace-manager.js';
import { hostGit } from './checkout.js';

/** A step of an evaluation run reached for something an evaluation never uses (GitHub, the ledger…). */
export class HeadlessRefusedError extends Error {
  override readonly name = 'HeadlessRefusedError';
  constructor(
    readonly service: string,
    readonly method: string,
  ) {
    super(`an evaluation run never uses ${service}: a step called ${service}.${method}()`);
  }
}

/**
 * A stand-in for a port an evaluation run must not touch: every method call is recorded in `calls`
 * and rejects with {@link HeadlessRefusedError}, so a step that would write to GitHub fails the
 * evaluation run instead of writing. Typed as the port it replaces (it has none of its behaviour).
 */
export function refusing<T extends object>(service: string, calls: string[]): T {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        // Not a thenable: `await refusing(...)` must not call it.
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        return () => {
          calls.push(`${service}.${prop}`);
          return Promise.reject(new HeadlessRefusedError(service, prop));
        };
      },
    },
  ) as T;
}

/**
 * The run's workspace for an evaluation: the sandbox's checkout at the task's base commit. `diff`
 * works as in production (untracked files included); nothing is ever committed or pushed.
 */
export function headlessWorkspace(runId: string, dir: string, baseSha: string): Workspace {
  return {
    runId,
    dir,
    branch: `eval/${runId}`,
    baseSha,
    commitAndPush: () => Promise.reject(new HeadlessRefusedError('git push', 'commitAndPush')),
    async diff(signal) {
      await hostGit(dir, ['add', '-A', '--intent-to-add'], signal);
      return hostGit(dir, ['diff', baseSha], signal);
    },
    release: () => Promise.resolve(),
  };
}
