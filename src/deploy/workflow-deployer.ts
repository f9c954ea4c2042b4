import type { GitHubHost, RepoRef } from '../github/types.js';
import type { Deployer } from './types.js';
import { sleep } from './verify-health.js';

/**
 * A deployer that dispatches a GitHub Actions workflow (`workflow_dispatch` with `sha`,
 * `environment` and `action` added to its inputs) and follows the run it started until it
 * concludes: the first run of that workflow that did not exist before the dispatch, on the ref's head.
 */
export function workflowDeployer(o: {
  readonly github: Pick<
    GitHubHost,
    'dispatchWorkflow' | 'listWorkflowRuns' | 'getWorkflowRun' | 'getDefaultBranchSha'
  >;
  readonly repo: RepoRef;
  readonly file: string;
  readonly ref?: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly timeoutSec: number;
  /** @defaultValue 2000 */
  readonly pollMs?: number;
}): Deployer {
  return async (request, outer) => {
    const timeout = AbortSignal.timeout(o.timeoutSec * 1000);
    const signal = AbortSignal.any([outer, timeout]);
    const pollMs = o.pollMs ?? 2000;
    try {
      const ref = o.ref ?? (await o.github.getDefaultBranchSha(o.repo, { signal })).branch;
      const before = new Set(
        (await o.github.listWorkflowRuns(o.repo, o.file, { event: 'workflow_dispatch' }, { signal })).map(
          (r) => r.id,
        ),
      );
      await o.github.dispatchWorkflow(
        o.repo,
        o.file,
        ref,
        { ...o.inputs, sha: request.sha, environment: request.environment, action: request.action },
        { signal },
      );
      let runId: number | undefined;
      while (runId === undefined) {
        await sleep(pollMs, signal);
        const runs = await o.github.listWorkflowRuns(
          o.repo,
          o.file,
          { event: 'workflow_dispatch' },
          { signal },
        );
        runId = runs.filter((r) => !before.has(r.id)).sort((a, b) => a.id - b.id)[0]?.id;
      }
      for (;;) {
        const run = await o.github.getWorkflowRun(o.repo, runId, { signal });
        if (run.status === 'completed')
          return {
            ok: run.conclusion === 'success',
            summary: `workflow run ${run.id} (${o.file}) concluded ${run.conclusion ?? 'without a conclusion'}`,
            url: run.htmlUrl,
          };
        await sleep(pollMs, signal);
      }
    } catch (err) {
      outer.throwIfAborted();
      if (timeout.aborted)
        return { ok: false, summary: `workflow ${o.file} did not conclude within ${o.timeoutSec} s` };
      return { ok: false, summary: `workflow ${o.file}: ${(err as Error).message}` };
    }
  };
}
