import { HttpError, validationFailed } from './http.js';
import { emitIssueEvent } from './issue-ops.js';
import { pullJson, reviewJson } from './serialize.js';
import type { ForgeState } from './state.js';
import type { Actor, ForgeIssue, ForgePull, ForgeRepo, ForgeReview } from './types.js';

/** A pull request issue whose `pull` is known to be set. */
export type PullIssue = ForgeIssue & { readonly pull: ForgePull };

export const isPull = (issue: ForgeIssue | undefined): issue is PullIssue => issue?.pull !== undefined;

/** Opens a pull request from `head` (a branch of the same repository, `owner:` prefix allowed). */
export async function createPull(
  state: ForgeState,
  repo: ForgeRepo,
  actor: Actor,
  input: { title: string; head: string; base?: string; body?: string | null; draft?: boolean },
): Promise<PullIssue> {
  const headRef = input.head.includes(':') ? input.head.slice(input.head.indexOf(':') + 1) : input.head;
  const headOwner = input.head.includes(':')
    ? input.head.slice(0, input.head.indexOf(':'))
    : repo.owner.login;
  const baseRef = input.base ?? repo.defaultBranch;
  const { owner, name } = { owner: repo.owner.login, name: repo.name };
  const headSha =
    headOwner.toLowerCase() === owner.toLowerCase()
      ? await state.git.revParse(owner, name, `refs/heads/${headRef}`)
      : null;
  if (!headSha) throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'invalid' });
  const baseSha = await state.git.revParse(owner, name, `refs/heads/${baseRef}`);
  if (!baseSha) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' });
  const duplicate = [...repo.issues.values()].find(
    (i) => i.state === 'open' && i.pull?.headRef === headRef && i.pull.baseRef === baseRef,
  );
  if (duplicate)
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      message: `A pull request already exists for ${owner}:${headRef}.`,
    });
  if (await state.git.isAncestor(owner, name, headSha, baseSha))
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      message: `No commits between ${baseRef} and ${headRef}`,
    });
  const now = state.timestamp();
  const issue: PullIssue = {
    id: state.nextId(),
    number: repo.nextNumber++,
    title: input.title,
    body: input.body ?? null,
    user: actor.user,
    state: 'open',
    stateReason: null,
    labels: [],
    reactions: [],
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    closedBy: null,
    pull: {
      id: state.nextId(),
      headRef,
      headSha,
      baseRef,
      baseSha,
      draft: input.draft ?? false,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      maintainerCanModify: false,
      reviews: [],
    },
  };
  repo.issues.set(issue.number, issue);
  emitIssueEvent(state, repo, issue, 'opened', actor);
  return issue;
}

/** Re-reads head and base SHAs after a push; `synchronize` for every open PR whose head moved. */
export async function refreshPulls(state: ForgeState, repo: ForgeRepo, actor: Actor): Promise<void> {
  repo.pushedAt = state.timestamp();
  for (const issue of repo.issues.values()) {
    if (!isPull(issue) || issue.state !== 'open') continue;
    const { owner, name } = { owner: repo.owner.login, name: repo.name };
    const head = await state.git.revParse(owner, name, `refs/heads/${issue.pull.headRef}`);
    const base = await state.git.revParse(owner, name, `refs/heads/${issue.pull.baseRef}`);
    if (base) issue.pull.baseSha = base;
    if (head && head !== issue.pull.headSha) {
      const before = issue.pull.headSha;
      issue.pull.headSha = head;
      issue.updatedAt = state.timestamp();
      emitIssueEvent(state, repo, issue, 'synchronize', actor, { before, after: head });
    }
  }
}

/** Merges a pull request into its base branch with a real git merge; 405/409 like GitHub. */
export async function mergePull(
  state: ForgeState,
  repo: ForgeRepo,
  issue: PullIssue,
  actor: Actor,
  options: { method?: 'merge' | 'squash' | 'rebase'; sha?: string; title?: string; message?: string } = {},
): Promise<string> {
  if (issue.state !== 'open' || issue.pull.merged) throw new HttpError(405, 'Pull Request is not mergeable');
  await refreshPulls(state, repo, actor);
  if (options.sha && options.sha !== issue.pull.headSha)
    throw new HttpError(409, 'Head branch was modified. Review and try the merge again.');
  const method = options.method ?? 'merge';
  const title =
    options.title ??
    (method === 'merge'
      ? `Merge pull request #${issue.number} from ${repo.owner.login}/${issue.pull.headRef}`
      : `${issue.title} (#${issue.number})`);
  const message = options.message
    ? `${title}\n\n${options.message}`
    : method === 'merge'
      ? `${title}\n\n${issue.title}`
      : title;
  const identity = {
    name: actor.user.name ?? actor.user.login,
    email: `${actor.user.id}+${actor.user.login}@users.noreply.localhost`,
  };
  const sha = await state.git.merge(repo.owner.login, repo.name, {
    base: issue.pull.baseRef,
    head: issue.pull.headSha,
    message,
    method,
    author: identity,
  });
  if (!sha) throw new HttpError(405, 'Pull Request is not mergeable');
  const now = state.timestamp();
  Object.assign(issue.pull, { merged: true, mergedAt: now, mergedBy: actor.user, mergeCommitSha: sha });
  Object.assign(issue, { state: 'closed', closedAt: now, closedBy: actor.user, updatedAt: now });
  emitIssueEvent(state, repo, issue, 'closed', actor);
  await refreshPulls(state, repo, actor);
  return sha;
}

export function submitReview(
  state: ForgeState,
  repo: ForgeRepo,
  issue: PullIssue,
  actor: Actor,
  input: { event: 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT'; body?: string },
): ForgeReview {
  const stateName = (
    { APPROVE: 'APPROVED', REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED' } as const
  )[input.event];
  const review: ForgeReview = {
    id: state.nextId(),
    user: actor.user,
    body: input.body ?? '',
    state: stateName,
    commitId: issue.pull.headSha,
    submittedAt: state.timestamp(),
  };
  issue.pull.reviews.push(review);
  state.emit({
    name: 'pull_request_review',
    action: 'submitted',
    repo,
    sender: actor.user,
    payload: {
      review: { ...reviewJson(state, repo, issue, review), state: review.state.toLowerCase() },
      pull_request: pullJson(state, repo, issue),
    },
  });
  return review;
}
