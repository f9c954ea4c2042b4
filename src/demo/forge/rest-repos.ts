import { notFound, repoParam, requireActor, type RequestContext, type Router, HttpError } from './http.js';
import { isSafeRef } from './git-store.js';
import { repoApiUrl, repoHtmlUrl, repoJson, userJson } from './serialize.js';
import type { ForgeRepo } from './types.js';

/** Maps a role to GitHub's coarse `permission` (maintain → write, triage → read). */
const COARSE = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read' } as const;

/** Resolves `ref` (branch, tag, or SHA) in the repository, or 404/422 like GitHub. */
export async function resolveRef(ctx: RequestContext, repo: ForgeRepo, ref: string): Promise<string> {
  if (!isSafeRef(ref)) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  const sha = await ctx.state.git.revParse(repo.owner.login, repo.name, ref);
  if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  return sha;
}

/** Wraps base64 at 60 columns, as the contents API does. */
const wrap64 = (buf: Buffer): string => (buf.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n';

export function registerRepoRoutes(router: Router): void {
  router.on('GET', '/user', (ctx) => {
    const actor = requireActor(ctx);
    if (actor.installation) throw new HttpError(403, 'Resource not accessible by integration');
    return {
      body: {
        ...userJson(ctx.state, actor.user),
        name: actor.user.name,
        email: actor.user.email,
        created_at: actor.user.createdAt,
      },
    };
  });

  router.on('GET', '/users/:login', (ctx) => {
    const user = ctx.state.user(ctx.params.login ?? '');
    if (!user) throw notFound();
    return { body: { ...userJson(ctx.state, user), name: user.name, created_at: user.createdAt } };
  });

  router.on('GET', '/repos/:owner/:repo', (ctx) => {
    const repo = repoParam(ctx);
    const actor = ctx.auth.kind === 'actor' ? ctx.auth.actor : undefined;
    const can = (role: Parameters<typeof ctx.state.can>[2]) => ctx.state.can(repo, actor, role);
    const permissions = actor
      ? {
          admin: can('admin'),
          maintain: can('maintain'),
          push: can('write'),
          triage: can('triage'),
          pull: can('read'),
        }
      : undefined;
    return { body: repoJson(ctx.state, repo, permissions) };
  });

  router.on('GET', '/repos/:owner/:repo/collaborators/:login/permission', (ctx) => {
    const repo = repoParam(ctx);
    requireActor(ctx);
    const user = ctx.state.user(ctx.params.login ?? '');
    if (!user) throw new HttpError(404, `${ctx.params.login} is not a user`);
    const role = ctx.state.roleOf(repo, { user });
    return {
      body: {
        permission: role ? COARSE[role] : 'none',
        role_name: role ?? 'none',
        user: { ...userJson(ctx.state, user), role_name: role ?? 'none' },
      },
    };
  });

  router.on('GET', '/repos/:owner/:repo/contents/*path', async (ctx) => {
    const repo = repoParam(ctx);
    const ref = ctx.query.get('ref') ?? repo.defaultBranch;
    const path = ctx.params.path ?? '';
    const found = await ctx.state.git.readPath(repo.owner.login, repo.name, ref, path);
    if (!found) throw notFound();
    const api = repoApiUrl(ctx.state, repo);
    const entry = (type: 'file' | 'dir', p: string, sha: string, size: number) => {
      const url = `${api}/contents/${p}?ref=${encodeURIComponent(ref)}`;
      const html = `${repoHtmlUrl(ctx.state, repo)}/${type === 'file' ? 'blob' : 'tree'}/${ref}/${p}`;
      const gitUrl = `${api}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
      return {
        type,
        name: p.split('/').pop() ?? p,
        path: p,
        sha,
        size,
        url,
        html_url: html,
        git_url: gitUrl,
        download_url:
          type === 'file' ? `${ctx.state.urls.web}/raw/${repo.owner.login}/${repo.name}/${ref}/${p}` : null,
        _links: { self: url, git: gitUrl, html },
      };
    };
    if (found.type === 'dir') {
      const base = path.replace(/^\/+|\/+$/g, '');
      return {
        body: found.entries.map((e) => entry(e.type, base ? `${base}/${e.name}` : e.name, e.sha, e.size)),
      };
    }
    return {
      body: {
        ...entry('file', path, found.sha, found.content.length),
        content: wrap64(found.content),
        encoding: 'base64',
      },
    };
  });

  const refJson = (ctx: RequestContext, repo: ForgeRepo, ref: string, sha: string) => ({
    ref,
    node_id: Buffer.from(`Ref:${repo.id}:${ref}`).toString('base64'),
    url: `${repoApiUrl(ctx.state, repo)}/git/${ref}`,
    object: { sha, type: 'commit', url: `${repoApiUrl(ctx.state, repo)}/git/commits/${sha}` },
  });

  router.on('GET', '/repos/:owner/:repo/git/ref/*ref', async (ctx) => {
    const repo = repoParam(ctx);
    const ref = `refs/${ctx.params.ref ?? ''}`;
    const sha = isSafeRef(ref) ? await ctx.state.git.revParse(repo.owner.login, repo.name, ref) : null;
    if (!sha) throw notFound();
    return { body: refJson(ctx, repo, ref, sha) };
  });

  router.on('GET', '/repos/:owner/:repo/branches/:branch', async (ctx) => {
    const repo = repoParam(ctx);
    const branch = ctx.params.branch ?? '';
    const sha = isSafeRef(branch)
      ? await ctx.state.git.revParse(repo.owner.login, repo.name, `refs/heads/${branch}`)
      : null;
    if (!sha) throw new HttpError(404, 'Branch not found');
    return {
      body: {
        name: branch,
        commit: { sha, url: `${repoApiUrl(ctx.state, repo)}/commits/${sha}` },
        protected: false,
        _links: {
          self: `${repoApiUrl(ctx.state, repo)}/branches/${branch}`,
          html: `${repoHtmlUrl(ctx.state, repo)}/tree/${branch}`,
        },
      },
    };
  });

  router.on('GET', '/repos/:owner/:repo/commits/:ref', async (ctx) => {
    const repo = repoParam(ctx);
    const sha = await resolveRef(ctx, repo, ctx.params.ref ?? '');
    const c = await ctx.state.git.commit(repo.owner.login, repo.name, sha);
    const api = repoApiUrl(ctx.state, repo);
    return {
      body: {
        sha: c.sha,
        node_id: Buffer.from(`Commit:${repo.id}:${c.sha}`).toString('base64'),
        url: `${api}/commits/${c.sha}`,
        html_url: `${repoHtmlUrl(ctx.state, repo)}/commit/${c.sha}`,
        commit: {
          message: c.message,
          author: c.author,
          committer: c.committer,
          tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
          url: `${api}/git/commits/${c.sha}`,
          comment_count: 0,
        },
        author: null,
        committer: null,
        parents: c.parents.map((p) => ({
          sha: p,
          url: `${api}/commits/${p}`,
          html_url: `${repoHtmlUrl(ctx.state, repo)}/commit/${p}`,
        })),
      },
    };
  });
}
