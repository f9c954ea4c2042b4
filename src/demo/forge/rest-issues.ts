import {
  HttpError,
  listReply,
  notFound,
  numberParam,
  repoParam,
  requireActor,
  requireRole,
  stringField,
  validationFailed,
  type RequestContext,
  type Router,
} from './http.js';
import {
  addLabels,
  addReaction,
  createComment,
  createIssue,
  deleteComment,
  isReaction,
  removeLabel,
  setLabels,
  updateComment,
  updateIssue,
} from './issue-ops.js';
import { commentJson, issueJson, labelJson, reactionJson } from './serialize.js';
import type { ForgeComment, ForgeIssue, ForgeReaction, ForgeRepo } from './types.js';

function issueParam(ctx: RequestContext, repo: ForgeRepo): ForgeIssue {
  const issue = repo.issues.get(numberParam(ctx, 'number'));
  if (!issue) throw notFound();
  return issue;
}

function commentParam(ctx: RequestContext, repo: ForgeRepo): ForgeComment {
  const comment = repo.comments.get(numberParam(ctx, 'id'));
  if (!comment) throw notFound();
  return comment;
}

/** `labels` as GitHub accepts it: `{ labels: [...] }`, `{ labels: [{ name }] }` or a bare array. */
function labelNames(ctx: RequestContext): string[] {
  const raw = Array.isArray(ctx.rawBody) ? ctx.rawBody : ctx.body.labels;
  if (!Array.isArray(raw))
    throw validationFailed({ resource: 'Label', field: 'labels', code: 'missing_field' });
  return raw.map((entry: unknown) => {
    const name = typeof entry === 'string' ? entry : (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name.trim() === '')
      throw validationFailed({ resource: 'Label', field: 'name', code: 'invalid' });
    return name;
  });
}

function reactionRoutes(
  router: Router,
  path: string,
  target: (ctx: RequestContext, repo: ForgeRepo) => { reactions: ForgeReaction[] },
): void {
  router.on('GET', path, (ctx) => {
    const repo = repoParam(ctx);
    const content = ctx.query.get('content');
    const list = target(ctx, repo).reactions.filter((r) => !content || r.content === content);
    return listReply(ctx, list, (r) => reactionJson(ctx.state, r));
  });
  router.on('POST', path, (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireActor(ctx);
    const content = ctx.body.content;
    if (!isReaction(content))
      throw validationFailed({ resource: 'Reaction', field: 'content', code: 'invalid' });
    const { reaction, created } = addReaction(ctx.state, target(ctx, repo), actor, content);
    return { status: created ? 201 : 200, body: reactionJson(ctx.state, reaction) };
  });
}

export function registerIssueRoutes(router: Router): void {
  router.on('GET', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoParam(ctx);
    const state = ctx.query.get('state') ?? 'open';
    const labels = (ctx.query.get('labels') ?? '')
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean);
    const creator = ctx.query.get('creator')?.toLowerCase();
    const ascending = ctx.query.get('direction') === 'asc';
    const list = [...repo.issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((l) => i.labels.some((x) => x.toLowerCase() === l)))
      .filter((i) => !creator || i.user.login.toLowerCase() === creator)
      .sort((a, b) => (ascending ? a.number - b.number : b.number - a.number));
    return listReply(ctx, list, (i) => issueJson(ctx.state, repo, i));
  });

  router.on('POST', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireActor(ctx);
    const title = stringField(ctx, 'title', true);
    const labels = ctx.body.labels === undefined ? [] : labelNames(ctx);
    if (labels.length > 0) requireRole(ctx, repo, 'triage');
    const issue = createIssue(ctx.state, repo, actor, { title, body: stringField(ctx, 'body'), labels });
    return { status: 201, body: issueJson(ctx.state, repo, issue) };
  });

  router.on('GET', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoParam(ctx);
    return { body: commentJson(ctx.state, repo, commentParam(ctx, repo)) };
  });

  router.on('PATCH', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoParam(ctx);
    const comment = commentParam(ctx, repo);
    const actor = requireActor(ctx);
    if (comment.user.id !== actor.user.id) requireRole(ctx, repo, 'write');
    updateComment(ctx.state, repo, comment, actor, stringField(ctx, 'body', true));
    return { body: commentJson(ctx.state, repo, comment) };
  });

  router.on('DELETE', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoParam(ctx);
    const comment = commentParam(ctx, repo);
    const actor = requireActor(ctx);
    if (comment.user.id !== actor.user.id) requireRole(ctx, repo, 'write');
    deleteComment(ctx.state, repo, comment, actor);
    return { status: 204 };
  });

  reactionRoutes(router, '/repos/:owner/:repo/issues/comments/:id/reactions', commentParam);

  router.on('GET', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoParam(ctx);
    return { body: issueJson(ctx.state, repo, issueParam(ctx, repo)) };
  });

  router.on('PATCH', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const actor = requireActor(ctx);
    if (issue.user.id !== actor.user.id || ctx.body.labels !== undefined) requireRole(ctx, repo, 'triage');
    const state = stringField(ctx, 'state');
    if (state !== undefined && state !== 'open' && state !== 'closed')
      throw validationFailed({ resource: 'Issue', field: 'state', code: 'invalid' });
    const reason = stringField(ctx, 'state_reason');
    updateIssue(ctx.state, repo, issue, actor, {
      title: stringField(ctx, 'title'),
      body: ctx.body.body === null ? null : stringField(ctx, 'body'),
      state,
      stateReason:
        reason === 'completed' || reason === 'not_planned' || reason === 'reopened' ? reason : undefined,
      labels: ctx.body.labels === undefined ? undefined : labelNames(ctx),
    });
    return { body: issueJson(ctx.state, repo, issue) };
  });

  router.on('GET', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const since = ctx.query.get('since');
    const list = [...repo.comments.values()]
      .filter((c) => c.issueNumber === issue.number)
      .filter((c) => !since || c.updatedAt >= since)
      .sort((a, b) => a.id - b.id);
    return listReply(ctx, list, (c) => commentJson(ctx.state, repo, c));
  });

  router.on('POST', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const actor = requireActor(ctx);
    const body = stringField(ctx, 'body', true);
    if (body.length > 65_536)
      throw validationFailed({
        resource: 'IssueComment',
        field: 'body',
        code: 'custom',
        message: 'Body is too long (maximum is 65536 characters)',
      });
    const comment = createComment(ctx.state, repo, issue, actor, body);
    return {
      status: 201,
      body: commentJson(ctx.state, repo, comment),
      headers: {
        location: `${ctx.state.urls.api}/repos/${repo.owner.login}/${repo.name}/issues/comments/${comment.id}`,
      },
    };
  });

  const labelsOf = (ctx: RequestContext, repo: ForgeRepo, issue: ForgeIssue) =>
    issue.labels.map((name) => labelJson(ctx.state, repo, ctx.state.ensureLabel(repo, name)));

  router.on('GET', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoParam(ctx);
    return listReply(ctx, labelsOf(ctx, repo, issueParam(ctx, repo)), (l) => l);
  });

  router.on('POST', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const actor = requireRole(ctx, repo, 'triage');
    addLabels(ctx.state, repo, issue, actor, labelNames(ctx));
    return { body: labelsOf(ctx, repo, issue) };
  });

  router.on('PUT', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const actor = requireRole(ctx, repo, 'triage');
    setLabels(ctx.state, repo, issue, actor, labelNames(ctx));
    return { body: labelsOf(ctx, repo, issue) };
  });

  router.on('DELETE', '/repos/:owner/:repo/issues/:number/labels/:name', (ctx) => {
    const repo = repoParam(ctx);
    const issue = issueParam(ctx, repo);
    const actor = requireRole(ctx, repo, 'triage');
    if (!removeLabel(ctx.state, repo, issue, actor, ctx.params.name ?? ''))
      throw new HttpError(404, 'Label does not exist');
    return { body: labelsOf(ctx, repo, issue) };
  });

  router.on('GET', '/repos/:owner/:repo/labels', (ctx) => {
    const repo = repoParam(ctx);
    return listReply(ctx, [...repo.labels.values()], (l) => labelJson(ctx.state, repo, l));
  });

  reactionRoutes(router, '/repos/:owner/:repo/issues/:number/reactions', issueParam);
}
