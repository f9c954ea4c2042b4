import type { Forge } from './start-forge.js';

/**
 * Test helpers for scheduled maintenance on the forge: a push with its `push` webhook, pull request
 * timestamps set into the past (stale branches), and an issue body edited by a user.
 */
export async function pushFiles(
  forge: Forge,
  repo: string,
  options: { files: Readonly<Record<string, string | null>>; message: string; as: string; branch?: string },
): Promise<string> {
  const r = forge.state.requireRepo(repo);
  const branch = options.branch ?? r.defaultBranch;
  const before =
    (await forge.state.git.revParse(r.owner.login, r.name, `refs/heads/${branch}`)) ?? '0'.repeat(40);
  const after = await forge.commit(repo, {
    branch,
    files: options.files,
    message: options.message,
    as: options.as,
  });
  const paths = Object.entries(options.files);
  const commit = {
    id: after,
    message: options.message,
    added: [] as string[],
    modified: paths.filter(([, v]) => v !== null).map(([p]) => p),
    removed: paths.filter(([, v]) => v === null).map(([p]) => p),
  };
  const sender = forge.state.user(options.as);
  if (!sender) throw new Error(`no user ${options.as}`);
  forge.state.emit({
    name: 'push',
    repo: r,
    sender,
    payload: {
      ref: `refs/heads/${branch}`,
      before,
      after,
      commits: [commit],
      head_commit: commit,
    },
  });
  return after;
}

/** Moves a pull request's (or issue's) creation and last activity into the past. */
export function setIssueTimes(forge: Forge, repo: string, number: number, at: Date): void {
  const issue = forge.issue(repo, number) as { createdAt: string; updatedAt: string };
  issue.createdAt = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  issue.updatedAt = issue.createdAt;
}

/** Edits an issue's body as a user (sends `issues.edited`). */
export async function editIssueBody(
  forge: Forge,
  repo: string,
  number: number,
  body: string,
  as: string,
): Promise<void> {
  const r = forge.state.requireRepo(repo);
  const token = [...forge.state.userTokens].find(([, login]) => login === as.toLowerCase())?.[0];
  if (!token) throw new Error(`no token for user ${as}`);
  const response = await fetch(`${forge.url}/repos/${r.owner.login}/${r.name}/issues/${number}`, {
    method: 'PATCH',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  if (!response.ok) throw new Error(`editing #${number} as ${as} failed: ${response.status}`);
}
