import { Octokit } from '@octokit/rest';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../util/logger.js';
import { createCredentials, type CredentialOptions } from './credentials.js';
import { GitHubApiError, GitHubAuthError } from './errors.js';
import { toComment, toIssue, toRepo } from './map.js';
import { historyOps } from './history-ops.js';
import { pullCheckOps } from './pull-check-ops.js';
import { deploymentOps } from './deployment-ops.js';
import { maintenanceOps } from './maintenance-ops.js';
import { installRequestHook, type RequestHookOptions } from './request-hook.js';
import type { RetryPolicy } from './retry-policy.js';
import type { CommentInfo, GitHubHost, HookDeliveryInfo, RepoPermission } from './types.js';

export interface GitHubHostOptions extends CredentialOptions {
  readonly logger?: Logger;
  readonly retry?: RetryPolicy;
  /** Per request attempt. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Waits between retries; tests inject one that records and returns at once. */
  readonly sleep?: RequestHookOptions['sleep'];
  /** How long a permission lookup is reused. @defaultValue 60000 */
  readonly permissionTtlMs?: number;
  /** @defaultValue `droidworks` */
  readonly userAgent?: string;
}

const isNotFound = (err: unknown): boolean => err instanceof GitHubApiError && err.status === 404;

/** The Octokit implementation of {@link GitHubHost}, for github.com, GHES or the forge (`config.apiUrl`). */
export function createGitHubHost(config: Config['github'], options: GitHubHostOptions = {}): GitHubHost {
  const now = options.now ?? Date.now;
  const logger = options.logger?.child({ component: 'github' });
  const octokit = new Octokit({
    baseUrl: config.apiUrl,
    userAgent: options.userAgent ?? 'droidworks',
    // Octokit logs through console by default; route it to pino (failed requests surface as errors anyway).
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => logger?.warn({ octokit: message }, 'octokit warning'),
      error: (message: string) => logger?.debug({ octokit: message }, 'octokit request failed'),
    },
  });
  const credentials = createCredentials(config.auth, octokit.request, options);
  installRequestHook(octokit, {
    credentials,
    retry: options.retry,
    timeoutMs: options.timeoutMs,
    sleep: options.sleep,
    logger,
    now,
  });

  const permissions = new Map<string, { value: RepoPermission; at: number }>();
  let login: Promise<string> | undefined;

  const requireApp = (what: string) => {
    if (credentials.kind !== 'app')
      throw new GitHubAuthError(`${what} needs GitHub App credentials (GITHUB_APP_ID)`);
  };

  const host: GitHubHost = {
    ...pullCheckOps(octokit, { checksAsStatuses: credentials.kind === 'token' }),
    ...historyOps(octokit),
    ...deploymentOps(octokit),
    ...maintenanceOps(octokit),

    async getRepo({ owner, repo }, o) {
      return toRepo((await octokit.rest.repos.get({ owner, repo, request: { signal: o?.signal } })).data);
    },

    async getPermission({ owner, repo }, user, o) {
      const key = `${owner}/${repo}/${user}`.toLowerCase();
      const cached = permissions.get(key);
      if (cached && now() - cached.at < (options.permissionTtlMs ?? 60_000)) return cached.value;
      let value: RepoPermission;
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          owner,
          repo,
          username: user,
          request: { signal: o?.signal },
        });
        const role = (data as { role_name?: string }).role_name ?? data.permission;
        value = (['admin', 'maintain', 'write', 'triage', 'read'] as const).find((r) => r === role) ?? 'none';
      } catch (err) {
        if (!isNotFound(err)) throw err;
        value = 'none';
      }
      permissions.set(key, { value, at: now() });
      return value;
    },

    async getIssue({ owner, repo, issueNumber }, o) {
      const { data } = await octokit.rest.issues.get({
        owner,
        repo,
        issue_number: issueNumber,
        request: { signal: o?.signal },
      });
      return toIssue(data);
    },

    async listComments({ owner, repo, issueNumber }, o) {
      // Page by page rather than `octokit.paginate`, which drops the request options (and so the
      // caller's AbortSignal) after building the first request.
      const list = [];
      for (let page = 1; ; page++) {
        const { data } = await octokit.rest.issues.listComments({
          owner,
          repo,
          issue_number: issueNumber,
          per_page: 100,
          page,
          request: { signal: o?.signal },
        });
        list.push(...data);
        if (data.length < 100) break;
      }
      return list.map(toComment);
    },

    async createComment({ owner, repo, issueNumber }, body, o) {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: issueNumber,
        body,
        request: { signal: o?.signal },
      });
      return toComment(data);
    },

    async updateComment({ owner, repo }, commentId, body, o) {
      const { data } = await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: commentId,
        body,
        request: { signal: o?.signal },
      });
      return toComment(data);
    },

    async findCommentByMarker(issue, marker, o) {
      const me = await host.getAuthenticatedLogin(o);
      const comments = await host.listComments(issue, o);
      // Only our own comments count: anyone can paste the marker into theirs.
      return comments.find((c: CommentInfo) => c.body.includes(marker) && c.author.login === me) ?? null;
    },

    async upsertComment(issue, marker, body, o) {
      if (!body.includes(marker)) throw new Error('upsertComment: the body must contain the marker');
      const existing = await host.findCommentByMarker(issue, marker, o);
      if (!existing) return { comment: await host.createComment(issue, body, o), created: true };
      if (existing.body === body) return { comment: existing, created: false };
      return { comment: await host.updateComment(issue, existing.id, body, o), created: false };
    },

    async addReaction({ owner, repo }, target, content, o) {
      const request = { signal: o?.signal };
      if ('commentId' in target)
        await octokit.rest.reactions.createForIssueComment({
          owner,
          repo,
          comment_id: target.commentId,
          content,
          request,
        });
      else
        await octokit.rest.reactions.createForIssue({
          owner,
          repo,
          issue_number: target.issueNumber,
          content,
          request,
        });
    },

    async addLabels({ owner, repo, issueNumber }, labels, o) {
      await octokit.rest.issues.addLabels({
        owner,
        repo,
        issue_number: issueNumber,
        labels: [...labels],
        request: { signal: o?.signal },
      });
    },

    async removeLabel({ owner, repo, issueNumber }, label, o) {
      try {
        await octokit.rest.issues.removeLabel({
          owner,
          repo,
          issue_number: issueNumber,
          name: label,
          request: { signal: o?.signal },
        });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    async getDefaultBranchSha(repoRef, o) {
      const { defaultBranch } = await host.getRepo(repoRef, o);
      const { data } = await octokit.rest.git.getRef({
        ...repoRef,
        ref: `heads/${defaultBranch}`,
        request: { signal: o?.signal },
      });
      return { branch: defaultBranch, sha: data.object.sha };
    },

    async getFileAtDefaultBranch(repoRef, path, o) {
      const { sha: commitSha } = await host.getDefaultBranchSha(repoRef, o);
      const file = await host.getFileAt(repoRef, path, commitSha, o);
      return file ? { ...file, commitSha } : null;
    },

    async getFileAt(repoRef, path, ref, o) {
      try {
        const { data } = await octokit.rest.repos.getContent({
          ...repoRef,
          path,
          ref,
          request: { signal: o?.signal },
        });
        if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
        return { content: Buffer.from(data.content, 'base64').toString('utf8'), sha: data.sha };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async listDirectory(repoRef, path, ref, o) {
      try {
        const { data } = await octokit.rest.repos.getContent({
          ...repoRef,
          path,
          ref,
          request: { signal: o?.signal },
        });
        if (!Array.isArray(data)) return [];
        return data
          .filter((e) => e.type === 'file' || e.type === 'dir')
          .map((e) => ({ name: e.name, path: e.path, type: e.type as 'file' | 'dir' }));
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
    },

    getGitToken: (repoRef, o) => credentials.gitToken(repoRef, o),

    getAuthenticatedLogin(o) {
      login ??= (async () => {
        if (credentials.kind === 'app') {
          const { data } = await octokit.rest.apps.getAuthenticated({ request: { signal: o?.signal } });
          return `${data?.slug ?? ''}[bot]`;
        }
        return (await octokit.rest.users.getAuthenticated({ request: { signal: o?.signal } })).data.login;
      })();
      login.catch(() => (login = undefined));
      return login;
    },

    async listFailedHookDeliveries(o = {}) {
      requireApp('listing webhook deliveries');
      const latest = new Map<string, HookDeliveryInfo>();
      const since = o.since?.getTime() ?? 0;
      let pages = 0;
      for await (const page of octokit.paginate.iterator(octokit.rest.apps.listWebhookDeliveries, {
        per_page: 100,
        request: { signal: o.signal },
      })) {
        let older = false;
        for (const d of page.data) {
          if (Date.parse(d.delivered_at) < since) older = true;
          else if (!latest.has(d.guid) || (latest.get(d.guid)?.id ?? 0) < Number(d.id))
            latest.set(d.guid, {
              id: Number(d.id),
              guid: d.guid,
              event: d.event,
              action: d.action,
              statusCode: d.status_code,
              deliveredAt: d.delivered_at,
              redelivery: d.redelivery,
            });
        }
        if (older || ++pages >= (o.maxPages ?? 10)) break;
      }
      return [...latest.values()]
        .filter((d) => d.statusCode < 200 || d.statusCode >= 300)
        .sort((a, b) => b.id - a.id);
    },

    async redeliver(deliveryId, o) {
      requireApp('redelivering webhooks');
      await octokit.rest.apps.redeliverWebhookDelivery({
        delivery_id: deliveryId,
        request: { signal: o?.signal },
      });
    },
  };
  return host;
}
