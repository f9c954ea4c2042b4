import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Webhooks } from '@octokit/webhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import type { GitHubAuthConfig } from '../config/load-config.js';
import { createGitHubHost, type GitHubHostOptions } from './create-github-host.js';
import { GitHubApiError } from './errors.js';
import { commentMarker, isWriter } from './types.js';

const repo = { owner: 'acme', repo: 'app' };
const issueRef = (issueNumber: number) => ({ ...repo, issueNumber });

async function receiver(
  statuses: number[],
): Promise<{ url: string; bodies: Array<{ body: string; sig: string; event: string }>; server: Server }> {
  const bodies: Array<{ body: string; sig: string; event: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push({
        body,
        sig: String(req.headers['x-hub-signature-256']),
        event: String(req.headers['x-github-event']),
      });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/`, bodies, server };
}

describe('createGitHubHost against the forge', () => {
  let forge: Forge | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0)) await fn();
    await forge?.close();
  });

  async function setup(auth: 'token' | 'app', options: GitHubHostOptions = {}) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    forge = await startForge(auth === 'app' ? { appId: 4242, privateKey: pem } : {});
    const alice = forge.createUser('alice').token;
    forge.createUser('rita');
    await forge.createRepo({
      owner: 'acme',
      name: 'app',
      files: { 'README.md': '# app\n', '.droidworks.yml': 'tests: npm test\n' },
    });
    forge.setPermission('acme/app', 'alice', 'write');
    forge.setPermission('acme/app', 'rita', 'read');
    const sleeps: number[] = [];
    const authConfig: GitHubAuthConfig =
      auth === 'app' ? { kind: 'app', appId: '4242', privateKey: pem } : { kind: 'token', token: alice };
    const host = createGitHubHost(
      { apiUrl: forge.url, auth: authConfig, webhookSecret: undefined, botLogin: undefined },
      { sleep: async (ms) => void sleeps.push(ms), ...options },
    );
    return { forge, host, sleeps };
  }

  it('reads repos, issues, files and permissions with token auth; permission cached for a minute', async () => {
    let clock = Date.now();
    const { forge, host } = await setup('token', { now: () => clock });
    expect(await host.getAuthenticatedLogin()).toBe('alice');
    expect(await host.getRepo(repo)).toMatchObject({ fullName: 'acme/app', defaultBranch: 'main' });
    const issue = forge.createIssue('acme/app', {
      title: 'Bug',
      body: 'it breaks',
      labels: ['bug'],
      as: 'rita',
    });
    expect(await host.getIssue(issueRef(issue.number))).toMatchObject({
      title: 'Bug',
      labels: ['bug'],
      author: { login: 'rita' },
    });
    expect(await host.getFileAtDefaultBranch(repo, '.droidworks.yml')).toMatchObject({
      content: 'tests: npm test\n',
    });
    expect(await host.getFileAtDefaultBranch(repo, 'missing.yml')).toBeNull();

    expect(await host.getPermission(repo, 'rita')).toBe('read');
    expect(isWriter(await host.getPermission(repo, 'alice'))).toBe(true);
    forge.setPermission('acme/app', 'rita', 'maintain');
    const count = () =>
      forge.rest.requests.filter((r) => r.path.endsWith('/collaborators/rita/permission')).length;
    expect(await host.getPermission(repo, 'rita')).toBe('read');
    expect(count()).toBe(1);
    clock += 61_000;
    expect(await host.getPermission(repo, 'rita')).toBe('maintain');
    expect(count()).toBe(2);
  });

  it('upserts the progress comment and the pull request idempotently', async () => {
    const { forge, host } = await setup('token');
    const issue = forge.createIssue('acme/app', { title: 'Bug', as: 'rita' });
    const marker = commentMarker('run:1');
    const first = await host.upsertComment(issueRef(issue.number), marker, `${marker}\nworking…`);
    const second = await host.upsertComment(issueRef(issue.number), marker, `${marker}\ndone`);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(forge.comments('acme/app', issue.number).map((c) => c.body)).toEqual([`${marker}\ndone`]);
    // someone else quoting the marker does not hijack it
    forge.comment('acme/app', issue.number, `${marker} mine`, 'rita');
    expect((await host.findCommentByMarker(issueRef(issue.number), marker))?.id).toBe(first.comment.id);

    await forge.commit('acme/app', { branch: 'droid/1-bug', files: { 'fix.txt': 'x\n' }, message: 'fix' });
    const input = { head: 'droid/1-bug', base: 'main', title: 'Fix bug', body: 'Closes #1' };
    const a = await host.upsertPullRequest(repo, input);
    const b = await host.upsertPullRequest(repo, { ...input, body: 'Closes #1\n\nupdated' });
    expect([a.created, b.created]).toEqual([true, false]);
    expect(forge.pulls('acme/app')).toHaveLength(1);
    expect(b.pullRequest).toMatchObject({
      number: a.pullRequest.number,
      body: 'Closes #1\n\nupdated',
      headSha: await forge.refSha('acme/app', 'droid/1-bug'),
    });

    await host.addLabels(issueRef(issue.number), ['droid:done']);
    expect(await host.removeLabel(issueRef(issue.number), 'droid:done')).toBe(true);
    expect(await host.removeLabel(issueRef(issue.number), 'droid:done')).toBe(false);
    await host.addReaction(repo, { commentId: first.comment.id }, 'eyes');
    expect(forge.state.requireRepo('acme/app').comments.get(first.comment.id)?.reactions).toHaveLength(1);

    const sha = await forge.refSha('acme/app', 'main');
    if (!sha) throw new Error('no main');
    forge.setStatus('acme/app', sha, { state: 'success', context: 'ci', as: 'alice' });
    expect(await host.getCombinedStatusAndChecks(repo, 'main')).toMatchObject({
      state: 'success',
      statuses: [{ context: 'ci' }],
    });
    const deployment = await host.createDeployment(repo, {
      ref: 'main',
      environment: 'staging',
      payload: { runId: 'r1' },
    });
    await host.createDeploymentStatus(repo, deployment.id, {
      state: 'success',
      environmentUrl: 'http://staging',
    });
    expect(await host.listDeployments(repo, { environment: 'staging' })).toMatchObject([
      { id: deployment.id, payload: { runId: 'r1' } },
    ]);
    // GitHub refuses check runs to tokens (Apps only): with a token the result is a commit status.
    await expect(
      host.createCheckRun(repo, { name: 'droidworks/tests', headSha: sha, conclusion: 'failure' }),
    ).resolves.toMatchObject({ name: 'droidworks/tests', conclusion: 'failure' });
    expect((await host.getCombinedStatusAndChecks(repo, sha)).statuses).toContainEqual(
      expect.objectContaining({ context: 'droidworks/tests', state: 'failure' }),
    );
  });

  it('retries 502 with backoff and secondary rate limits after retry-after', async () => {
    const { forge, host, sleeps } = await setup('token');
    forge.rest.failNext({ method: 'GET', path: '/repos/acme/app', status: 502 });
    forge.rest.failNext({
      method: 'GET',
      path: '/repos/acme/app',
      status: 403,
      headers: { 'retry-after': '2' },
    });
    expect(await host.getRepo(repo)).toMatchObject({ name: 'app' });
    expect(sleeps).toEqual([1000, 2000]);
    expect(forge.rest.requests.filter((r) => r.path === '/repos/acme/app').map((r) => r.status)).toEqual([
      502, 403, 200,
    ]);

    forge.rest.failNext({
      method: 'GET',
      path: '/repos/acme/app',
      status: 403,
      headers: { 'retry-after': '3600' },
    });
    const err = await host.getRepo(repo).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubApiError);
    expect(err).toMatchObject({ status: 403, details: { retryAfterMs: 3_600_000 } });
    forge.rest.failNext({ method: 'GET', path: '/repos/acme/app', status: 503, times: 10 });
    await expect(host.getRepo(repo)).rejects.toMatchObject({ status: 503, isTransient: true });
  });

  it('authenticates as a GitHub App, refreshes installation tokens before expiry, and writes checks', async () => {
    let clock = Date.now();
    const { forge, host } = await setup('app', { now: () => clock });
    expect(await host.getAuthenticatedLogin()).toBe('droidworks[bot]');
    const issue = forge.createIssue('acme/app', { title: 'Bug', as: 'rita' });
    const comment = await host.createComment(issueRef(issue.number), 'on it');
    expect(comment.author).toEqual({ login: 'droidworks[bot]', type: 'Bot' });
    const sha = (await host.getDefaultBranchSha(repo)).sha;
    const run = await host.createCheckRun(repo, {
      name: 'droidworks/tests',
      headSha: sha,
      status: 'in_progress',
    });
    await host.updateCheckRun(repo, run.id, {
      conclusion: 'success',
      output: { title: 'ok', summary: '3 passed' },
    });
    expect(await host.getCombinedStatusAndChecks(repo, sha)).toMatchObject({
      state: 'success',
      checkRuns: [{ name: 'droidworks/tests', conclusion: 'success' }],
    });

    const mints = () => forge.rest.requests.filter((r) => r.path.endsWith('/access_tokens')).length;
    const t1 = await host.getGitToken(repo);
    expect(await host.getGitToken(repo)).toEqual(t1);
    expect(mints()).toBe(1);
    clock += 56 * 60_000; // within the 5-minute refresh margin of the one-hour expiry
    const t2 = await host.getGitToken(repo);
    expect(t2.token).not.toBe(t1.token);
    expect(mints()).toBe(2);

    const tmp = await mkdtemp(join(tmpdir(), 'gh-host-'));
    cleanups.push(() => rm(tmp, { recursive: true, force: true }));
    const url = forge.gitUrl('acme', 'app').replace('http://', `http://x-access-token:${t2.token}@`);
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    await promisify(execFile)('git', ['clone', '--quiet', url, join(tmp, 'w')], { env });
  });

  it('delivers signed webhooks when a label is added, and redelivers failed ones', async () => {
    const { forge, host } = await setup('app');
    const hook = await receiver([500]);
    cleanups.push(() => void hook.server.close());
    forge.webhooks.configure({ url: hook.url, secret: 'webhook-secret' });
    const issue = forge.createIssue('acme/app', { title: 'Bug', as: 'rita' });
    forge.addLabel('acme/app', issue.number, 'droid', 'alice');
    await forge.webhooks.idle();
    const verifier = new Webhooks({ secret: 'webhook-secret' });
    const labeled = hook.bodies.find((b) => b.event === 'issues' && b.body.includes('"labeled"'));
    expect(labeled && (await verifier.verify(labeled.body, labeled.sig))).toBe(true);
    expect(JSON.parse(labeled?.body ?? '{}')).toMatchObject({
      label: { name: 'droid' },
      installation: { id: expect.any(Number) },
    });

    const failed = await host.listFailedHookDeliveries();
    expect(failed.map((d) => d.event)).toEqual(['issues']);
    const [first] = failed;
    if (!first) throw new Error('no failed delivery');
    await host.redeliver(first.id);
    await forge.webhooks.idle();
    expect(hook.bodies.filter((b) => b.body === hook.bodies[0]?.body)).toHaveLength(2);
    expect(await host.listFailedHookDeliveries()).toEqual([]);

    await host.addLabels(issueRef(issue.number), ['droid:done']);
    await forge.webhooks.idle();
    const bySelf = hook.bodies
      .map((b) => JSON.parse(b.body) as { action?: string; sender?: { type?: string } })
      .find((p) => p.action === 'labeled' && p.sender?.type === 'Bot');
    expect(bySelf).toBeDefined();
  });
});
