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
import { updateIssue } from './issue-ops.js';
import { createPull, isPull, mergePull, submitReview, type PullIssue } from './pull-ops.js';
import { pullJson, reviewJson } from './serialize.js';
import type { ForgeRepo } from './types.js';

function pullParam(ctx: RequestContext, repo: ForgeRepo): PullIssue {
  const issue = repo.issues.get(numberParam(ctx, 'number'));
  if (!isPull(issue)) throw notFound();
  return issue;
}

const REVIEW_EVENTS = ['APPROVE', 'REQUEST_CHANGES', 'COMMENT'] as const;

export function registerPullRoutes(router: Router): void {
  router.on('GET', '/repos/:owner/:repo/pulls', (ctx) => {
    const repo = repoParam(ctx);
    const state = ctx.query.get('state') ?? 'open';
    const head = ctx.query.get('head');
    const base = ctx.query.get('base');
    const [headOwner, headRef] = head?.includes(':') ? head.split(/:(.*)/s) : [repo.owner.login, head];
    const list = [...repo.issues.values()]
      .filter(isPull)
      .filter((i) => state === 'all' || i.state === state)
      .filter(
        (i) =>
          !headRef ||
          (headOwner?.toLowerCase() === repo.owner.login.toLowerCase() && i.pull.headRef === headRef),
      )
      .filter((i) => !base || i.pull.baseRef === base)
      .sort((a, b) => (ctx.query.get('direction') === 'asc' ? a.number - b.number : b.number - a.number));
    return listReply(ctx, list, (i) => pullJson(ctx.state, repo, i));
  });

  router.on('POST', '/repos/:owner/:repo/pulls', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const draft = ctx.body.draft;
    const pull = await createPull(ctx.state, repo, actor, {
      title: stringField(ctx, 'title', true),
      head: stringField(ctx, 'head', true),
      base: stringField(ctx, 'base', true),
      body: stringField(ctx, 'body'),
      draft: draft === true,
    });
    return { status: 201, body: pullJson(ctx.state, repo, pull) };
  });

  router.on('GET', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoParam(ctx);
    return { body: pullJson(ctx.state, repo, pullParam(ctx, repo)) };
  });

  router.on('PATCH', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoParam(ctx);
    const pull = pullParam(ctx, repo);
    const actor = requireActor(ctx);
    if (pull.user.id !== actor.user.id) requireRole(ctx, repo, 'write');
    const state = stringField(ctx, 'state');
    if (state !== undefined && state !== 'open' && state !== 'closed')
      throw validationFailed({ resource: 'PullRequest', field: 'state', code: 'invalid' });
    if (state === 'open' && pull.pull.merged) throw new HttpError(422, 'Cannot reopen a merged pull request');
    const base = stringField(ctx, 'base');
    if (base !== undefined) pull.pull.baseRef = base;
    updateIssue(ctx.state, repo, pull, actor, {
      title: stringField(ctx, 'title'),
      body: ctx.body.body === null ? null : stringField(ctx, 'body'),
      state,
    });
    return { body: pullJson(ctx.state, repo, pull) };
  });

  router.on('GET', '/repos/:owner/:repo/pulls/:number/merge', (ctx) => {
    const repo = repoParam(ctx);
    if (!pullParam(ctx, repo).pull.merged) throw notFound();
    return { status: 204 };
  });

  router.on('PUT', '/repos/:owner/:repo/pulls/:number/merge', async (ctx) => {
    const repo = repoParam(ctx);
    const pull = pullParam(ctx, repo);
    const actor = requireRole(ctx, repo, 'write');
    const method = stringField(ctx, 'merge_method') ?? 'merge';
    if (method !== 'merge' && method !== 'squash' && method !== 'rebase')
      throw validationFailed({ resource: 'PullRequest', field: 'merge_method', code: 'invalid' });
    const sha = await mergePull(ctx.state, repo, pull, actor, {
      method,
      sha: stringField(ctx, 'sha'),
      title: stringField(ctx, 'commit_title'),
      message: stringField(ctx, 'commit_message'),
    });
    return { body: { sha, merged: true, message: 'Pull Request successfully merged' } };
  });

  router.on('GET', '/repos/:owner/:repo/pulls/:number/reviews', (ctx) => {
    const repo = repoParam(ctx);
    const pull = pullParam(ctx, repo);
    return listReply(ctx, pull.pull.reviews, (r) => reviewJson(ctx.state, repo, pull, r));
  });

  router.on('POST', '/repos/:owner/:repo/pulls/:number/reviews', (ctx) => {
    const repo = repoParam(ctx);
    const pull = pullParam(ctx, repo);
    const actor = requireActor(ctx);
    const event = stringField(ctx, 'event') ?? 'COMMENT';
    const known = REVIEW_EVENTS.find((e) => e === event);
    if (!known) throw validationFailed({ resource: 'PullRequestReview', field: 'event', code: 'invalid' });
    if (known !== 'APPROVE' && !stringField(ctx, 'body'))
      throw new HttpError(422, 'Unprocessable Entity', { errors: ['Review body is required'] });
    if (known !== 'COMMENT' && pull.user.id === actor.user.id)
      throw new HttpError(422, 'Unprocessable Entity', {
        errors: ['Can not approve or request changes on your own pull request'],
      });
    const review = submitReview(ctx.state, repo, pull, actor, {
      event: known,
      body: stringField(ctx, 'body'),
    });
    return { body: reviewJson(ctx.state, repo, pull, review) };
  });
}
