import type { Octokit } from '@octokit/rest';
import type { GitHubHost, MergedPullInfo } from './types.js';

type HistoryOps = Pick<GitHubHost, 'listMergedPulls'>;

/** Read-only history operations (`droidworks eval mine`): merged pull requests, newest first. */
export function historyOps(octokit: Octokit): HistoryOps {
  return {
    async listMergedPulls({ owner, repo }, { since, limit }, o) {
      const merged: MergedPullInfo[] = [];
      // Page by page (the caller's signal reaches every page); closed pulls come newest first.
      for (let page = 1; merged.length < limit; page++) {
        const { data } = await octokit.rest.pulls.list({
          owner,
          repo,
          state: 'closed',
          sort: 'updated',
          direction: 'desc',
          per_page: 100,
          page,
          request: { signal: o?.signal },
        });
        for (const p of data) {
          if (!p.merged_at || !p.merge_commit_sha || new Date(p.merged_at) < since) continue;
          merged.push({
            number: p.number,
            title: p.title,
            body: p.body ?? '',
            mergedAt: p.merged_at,
            mergeCommitSha: p.merge_commit_sha,
            baseRef: p.base.ref,
          });
        }
        if (data.length < 100) break;
      }
      return merged.slice(0, limit);
    },
  };
}
