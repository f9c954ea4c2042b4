import type { GitHubHost, RepoRef } from '../github/types.js';

export interface DeploymentHistoryEntry {
  readonly id: number;
  readonly sha: string;
  /** Status states, newest first. */
  readonly states: readonly string[];
}

/**
 * Whether a deployment counts as good: it reached `success` and no `failure` or `error` came after
 * that (`inactive` after a success still counts: GitHub marks older successful deployments inactive).
 */
export function isGoodDeployment(states: readonly string[]): boolean {
  for (const state of states) {
    if (state === 'failure' || state === 'error') return false;
    if (state === 'success') return true;
  }
  return false;
}

/** The newest good deployment other than `excludeId`, from a newest-first history. Pure. */
export function pickLastGood(
  history: readonly DeploymentHistoryEntry[],
  excludeId?: number,
): DeploymentHistoryEntry | undefined {
  return history.find((d) => d.id !== excludeId && isGoodDeployment(d.states));
}

/**
 * The SHA to roll an environment back to, found through the Deployments API (so it survives
 * restarts and other installations): the newest good deployment to that environment other than the
 * failing one. Reads at most `limit` deployments.
 */
export async function findLastGoodSha(
  github: Pick<GitHubHost, 'listDeployments' | 'listDeploymentStatuses'>,
  repo: RepoRef,
  environment: string,
  options: { excludeId?: number; excludeSha?: string; limit?: number; signal?: AbortSignal } = {},
): Promise<{ sha: string; deploymentId: number } | undefined> {
  const deployments = await github.listDeployments(repo, { environment }, { signal: options.signal });
  const newestFirst = [...deployments].sort((a, b) => b.id - a.id).slice(0, options.limit ?? 30);
  for (const d of newestFirst) {
    if (d.id === options.excludeId || d.sha === options.excludeSha) continue;
    const statuses = await github.listDeploymentStatuses(repo, d.id, { signal: options.signal });
    const states = [...statuses].sort((a, b) => b.id - a.id).map((s) => s.state);
    if (pickLastGood([{ id: d.id, sha: d.sha, states }])) return { sha: d.sha, deploymentId: d.id };
  }
  return undefined;
}
