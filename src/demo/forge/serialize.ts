import type { ForgeState } from './state.js';
import type {
  ForgeComment,
  ForgeIssue,
  ForgeLabel,
  ForgeReaction,
  ForgeRepo,
  ForgeReview,
  ForgeUser,
} from './types.js';
import { REACTIONS } from './types.js';

/** GitHub's legacy global node id: base64 of `0<len>:<Type><id>`. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

export function userJson(state: ForgeState, user: ForgeUser): Record<string, unknown> {
  const api = `${state.urls.api}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type === 'Bot' ? 'Bot' : 'User', user.id),
    avatar_url: `${state.urls.web}/avatars/u/${user.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${state.urls.web}/${user.type === 'Bot' ? `apps/${user.login.replace(/\[bot\]$/, '')}` : user.login}`,
    followers_url: `${api}/followers`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    type: user.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

export function repoApiUrl(state: ForgeState, repo: ForgeRepo): string {
  return `${state.urls.api}/repos/${repo.owner.login}/${repo.name}`;
}

export function repoHtmlUrl(state: ForgeState, repo: ForgeRepo): string {
  return `${state.urls.web}/${repo.owner.login}/${repo.name}`;
}

export function repoJson(
  state: ForgeState,
  repo: ForgeRepo,
  permissions?: Record<string, boolean>,
): Record<string, unknown> {
  const url = repoApiUrl(state, repo);
  const openIssues = [...repo.issues.values()].filter((i) => i.state === 'open').length;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: `${repo.owner.login}/${repo.name}`,
    private: repo.private,
    owner: userJson(state, repo.owner),
    html_url: repoHtmlUrl(state, repo),
    description: repo.description,
    fork: false,
    url,
    issues_url: `${url}/issues{/number}`,
    pulls_url: `${url}/pulls{/number}`,
    git_url: `${repoHtmlUrl(state, repo)}.git`,
    clone_url: `${repoHtmlUrl(state, repo)}.git`,
    ssh_url: `git@localhost:${repo.owner.login}/${repo.name}.git`,
    created_at: repo.createdAt,
    updated_at: repo.pushedAt,
    pushed_at: repo.pushedAt,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    has_issues: true,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    open_issues_count: openIssues,
    open_issues: openIssues,
    default_branch: repo.defaultBranch,
    ...(permissions ? { permissions } : {}),
  };
}

export function labelJson(state: ForgeState, repo: ForgeRepo, label: ForgeLabel): Record<string, unknown> {
  return {
    id: label.id,
    node_id: nodeId('Label', label.id),
    url: `${repoApiUrl(state, repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

export function authorAssociation(repo: ForgeRepo, user: ForgeUser): string {
  if (user.id === repo.owner.id) return 'OWNER';
  if (repo.collaborators.has(user.login.toLowerCase())) return 'COLLABORATOR';
  return 'NONE';
}

export function reactionsRollup(url: string, reactions: readonly ForgeReaction[]): Record<string, unknown> {
  const rollup: Record<string, unknown> = { url: `${url}/reactions`, total_count: reactions.length };
  for (const content of REACTIONS) rollup[content] = reactions.filter((r) => r.content === content).length;
  return rollup;
}

export function reactionJson(state: ForgeState, reaction: ForgeReaction): Record<string, unknown> {
  return {
    id: reaction.id,
    node_id: nodeId('Reaction', reaction.id),
    user: userJson(state, reaction.user),
    content: reaction.content,
    created_at: reaction.createdAt,
  };
}

export function issueJson(state: ForgeState, repo: ForgeRepo, issue: ForgeIssue): Record<string, unknown> {
  const url = `${repoApiUrl(state, repo)}/issues/${issue.number}`;
  const html = `${repoHtmlUrl(state, repo)}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`;
  const comments = [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length;
  return {
    id: issue.id,
    node_id: nodeId(issue.pull ? 'PullRequest' : 'Issue', issue.id),
    url,
    repository_url: repoApiUrl(state, repo),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: html,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: userJson(state, issue.user),
    labels: issue.labels.map((name) => labelJson(state, repo, state.ensureLabel(repo, name))),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments,
    ...(issue.pull
      ? {
          pull_request: {
            url: `${repoApiUrl(state, repo)}/pulls/${issue.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: issue.pull.mergedAt,
          },
          draft: issue.pull.draft,
        }
      : {}),
    closed_at: issue.closedAt,
    closed_by: issue.closedBy ? userJson(state, issue.closedBy) : null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: authorAssociation(repo, issue.user),
    reactions: reactionsRollup(url, issue.reactions),
  };
}

export function commentJson(
  state: ForgeState,
  repo: ForgeRepo,
  comment: ForgeComment,
): Record<string, unknown> {
  const url = `${repoApiUrl(state, repo)}/issues/comments/${comment.id}`;
  const issue = repo.issues.get(comment.issueNumber);
  const kind = issue?.pull ? 'pull' : 'issues';
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url,
    html_url: `${repoHtmlUrl(state, repo)}/${kind}/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${repoApiUrl(state, repo)}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(state, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: authorAssociation(repo, comment.user),
    performed_via_github_app: comment.viaApp && state.app ? appJson(state) : null,
    reactions: reactionsRollup(url, comment.reactions),
  };
}

export function appJson(state: ForgeState): Record<string, unknown> {
  const app = state.app;
  if (!app) return {};
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId('App', app.id),
    client_id: `Iv1.${app.id}`,
    owner: userJson(state, app.owner),
    name: app.name,
    description: 'droidworks',
    external_url: state.urls.web,
    html_url: `${state.urls.web}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: APP_PERMISSIONS,
    events: ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'check_run', 'status'],
    installations_count: state.installations.size,
  };
}

export const APP_PERMISSIONS = {
  checks: 'write',
  contents: 'write',
  deployments: 'write',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
  statuses: 'write',
};

export function pullJson(state: ForgeState, repo: ForgeRepo, issue: ForgeIssue): Record<string, unknown> {
  const pull = issue.pull;
  if (!pull) throw new Error(`#${issue.number} is not a pull request`);
  const url = `${repoApiUrl(state, repo)}/pulls/${issue.number}`;
  const html = `${repoHtmlUrl(state, repo)}/pull/${issue.number}`;
  const side = (ref: string, sha: string) => ({
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(state, repo.owner),
    repo: repoJson(state, repo),
  });
  return {
    url,
    id: pull.id,
    node_id: nodeId('PullRequest', pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${repoApiUrl(state, repo)}/issues/${issue.number}`,
    commits_url: `${url}/commits`,
    statuses_url: `${repoApiUrl(state, repo)}/statuses/${pull.headSha}`,
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: userJson(state, issue.user),
    body: issue.body,
    labels: issue.labels.map((name) => labelJson(state, repo, state.ensureLabel(repo, name))),
    milestone: null,
    active_lock_reason: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(pull.headRef, pull.headSha),
    base: side(pull.baseRef, pull.baseSha),
    _links: {
      self: { href: url },
      html: { href: html },
      issue: { href: `${url.replace('/pulls/', '/issues/')}` },
    },
    author_association: authorAssociation(repo, issue.user),
    auto_merge: null,
    draft: pull.draft,
    merged: pull.merged,
    mergeable: issue.state === 'open' ? true : null,
    rebaseable: issue.state === 'open' ? true : null,
    mergeable_state: issue.state === 'open' ? 'clean' : 'unknown',
    merged_by: pull.mergedBy ? userJson(state, pull.mergedBy) : null,
    comments: [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length,
    review_comments: 0,
    maintainer_can_modify: pull.maintainerCanModify,
  };
}

export function reviewJson(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  review: ForgeReview,
): Record<string, unknown> {
  const html = `${repoHtmlUrl(state, repo)}/pull/${issue.number}`;
  return {
    id: review.id,
    node_id: nodeId('PullRequestReview', review.id),
    user: userJson(state, review.user),
    body: review.body,
    state: review.state,
    html_url: `${html}#pullrequestreview-${review.id}`,
    pull_request_url: `${repoApiUrl(state, repo)}/pulls/${issue.number}`,
    author_association: authorAssociation(repo, review.user),
    submitted_at: review.submittedAt,
    commit_id: review.commitId,
  };
}
