import { commentJson, issueJson, labelJson, pullJson } from './serialize.js';
import type { ForgeState } from './state.js';
import {
  REACTIONS,
  type Actor,
  type ForgeComment,
  type ForgeIssue,
  type ForgeReaction,
  type ForgeRepo,
  type ReactionContent,
} from './types.js';

/** Emits `issues.<action>` (or `pull_request.<action>` when the issue is a pull request). */
export function emitIssueEvent(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  action: string,
  actor: Actor,
  extra: Record<string, unknown> = {},
): void {
  const payload = issue.pull
    ? { number: issue.number, pull_request: pullJson(state, repo, issue), ...extra }
    : { issue: issueJson(state, repo, issue), ...extra };
  state.emit({ name: issue.pull ? 'pull_request' : 'issues', action, repo, sender: actor.user, payload });
}

export function requireIssue(repo: ForgeRepo, number: number): ForgeIssue {
  const issue = repo.issues.get(number);
  if (!issue) throw new Error(`no issue #${number} in ${repo.owner.login}/${repo.name}`);
  return issue;
}

export function createIssue(
  state: ForgeState,
  repo: ForgeRepo,
  actor: Actor,
  input: { title: string; body?: string | null; labels?: readonly string[] },
): ForgeIssue {
  const now = state.timestamp();
  const issue: ForgeIssue = {
    id: state.nextId(),
    number: repo.nextNumber++,
    title: input.title,
    body: input.body ?? null,
    user: actor.user,
    state: 'open',
    stateReason: null,
    labels: [...new Set(input.labels ?? [])].map((name) => state.ensureLabel(repo, name).name),
    reactions: [],
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    closedBy: null,
  };
  repo.issues.set(issue.number, issue);
  emitIssueEvent(state, repo, issue, 'opened', actor);
  return issue;
}

export interface IssueUpdate {
  readonly title?: string;
  readonly body?: string | null;
  readonly state?: 'open' | 'closed';
  readonly stateReason?: 'completed' | 'not_planned' | 'reopened' | null;
  /** Replaces every label. */
  readonly labels?: readonly string[];
}

export function updateIssue(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  actor: Actor,
  update: IssueUpdate,
): ForgeIssue {
  const changes: Record<string, { from: unknown }> = {};
  if (update.title !== undefined && update.title !== issue.title) {
    changes.title = { from: issue.title };
    issue.title = update.title;
  }
  if (update.body !== undefined && update.body !== issue.body) {
    changes.body = { from: issue.body };
    issue.body = update.body;
  }
  issue.updatedAt = state.timestamp();
  if (Object.keys(changes).length > 0) emitIssueEvent(state, repo, issue, 'edited', actor, { changes });
  if (update.labels) setLabels(state, repo, issue, actor, update.labels);
  if (update.state && update.state !== issue.state) {
    issue.state = update.state;
    if (update.state === 'closed') {
      issue.closedAt = state.timestamp();
      issue.closedBy = actor.user;
      issue.stateReason = update.stateReason ?? 'completed';
    } else {
      issue.closedAt = null;
      issue.closedBy = null;
      issue.stateReason = 'reopened';
    }
    emitIssueEvent(state, repo, issue, update.state === 'closed' ? 'closed' : 'reopened', actor);
  }
  return issue;
}

/** Adds labels not yet on the issue; one `labeled` event each. */
export function addLabels(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  actor: Actor,
  names: readonly string[],
): void {
  for (const name of names) {
    const label = state.ensureLabel(repo, name);
    if (issue.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) continue;
    issue.labels.push(label.name);
    issue.updatedAt = state.timestamp();
    emitIssueEvent(state, repo, issue, 'labeled', actor, { label: labelJson(state, repo, label) });
  }
}

/** Removes a label; false when the issue did not carry it. */
export function removeLabel(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  actor: Actor,
  name: string,
): boolean {
  const index = issue.labels.findIndex((l) => l.toLowerCase() === name.toLowerCase());
  if (index < 0) return false;
  const [removed = name] = issue.labels.splice(index, 1);
  issue.updatedAt = state.timestamp();
  const label = state.ensureLabel(repo, removed);
  emitIssueEvent(state, repo, issue, 'unlabeled', actor, { label: labelJson(state, repo, label) });
  return true;
}

export function setLabels(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  actor: Actor,
  names: readonly string[],
): void {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  for (const current of [...issue.labels]) {
    if (!wanted.has(current.toLowerCase())) removeLabel(state, repo, issue, actor, current);
  }
  addLabels(state, repo, issue, actor, names);
}

function commentPayload(state: ForgeState, repo: ForgeRepo, comment: ForgeComment): Record<string, unknown> {
  const issue = requireIssue(repo, comment.issueNumber);
  return { issue: issueJson(state, repo, issue), comment: commentJson(state, repo, comment) };
}

export function createComment(
  state: ForgeState,
  repo: ForgeRepo,
  issue: ForgeIssue,
  actor: Actor,
  body: string,
): ForgeComment {
  const now = state.timestamp();
  const comment: ForgeComment = {
    id: state.nextId(),
    issueNumber: issue.number,
    body,
    user: actor.user,
    viaApp: actor.installation !== undefined,
    reactions: [],
    createdAt: now,
    updatedAt: now,
  };
  repo.comments.set(comment.id, comment);
  issue.updatedAt = now;
  state.emit({
    name: 'issue_comment',
    action: 'created',
    repo,
    sender: actor.user,
    payload: commentPayload(state, repo, comment),
  });
  return comment;
}

export function updateComment(
  state: ForgeState,
  repo: ForgeRepo,
  comment: ForgeComment,
  actor: Actor,
  body: string,
): ForgeComment {
  const from = comment.body;
  comment.body = body;
  comment.updatedAt = state.timestamp();
  state.emit({
    name: 'issue_comment',
    action: 'edited',
    repo,
    sender: actor.user,
    payload: { changes: { body: { from } }, ...commentPayload(state, repo, comment) },
  });
  return comment;
}

export function deleteComment(state: ForgeState, repo: ForgeRepo, comment: ForgeComment, actor: Actor): void {
  const payload = commentPayload(state, repo, comment);
  repo.comments.delete(comment.id);
  state.emit({ name: 'issue_comment', action: 'deleted', repo, sender: actor.user, payload });
}

export function isReaction(content: unknown): content is ReactionContent {
  return typeof content === 'string' && (REACTIONS as readonly string[]).includes(content);
}

/** Adds a reaction once per user and content; `created` is false when it already existed. */
export function addReaction(
  state: ForgeState,
  target: { reactions: ForgeReaction[] },
  actor: Actor,
  content: ReactionContent,
): { reaction: ForgeReaction; created: boolean } {
  const existing = target.reactions.find((r) => r.user.id === actor.user.id && r.content === content);
  if (existing) return { reaction: existing, created: false };
  const reaction: ForgeReaction = {
    id: state.nextId(),
    content,
    user: actor.user,
    createdAt: state.timestamp(),
  };
  target.reactions.push(reaction);
  return { reaction, created: true };
}
