import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../../../test/support/github-simulator.js';
import { signBody } from './webhooks.js';

const run = promisify(execFile);
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env: gitEnv });

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function receiver(status = 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/hook`, received, server };
}

describe('forge', () => {
  let forge: Forge;
  let alice: string;
  let tmp: string;

  beforeEach(async () => {
    forge = await startForge();
    alice = forge.createUser('alice').token;
    forge.createUser('mallory');
    await forge.createRepo({
      owner: 'acme',
      name: 'app',
      files: { 'README.md': '# app\n', 'src/a.ts': 'export {}\n' },
    });
    forge.setPermission('acme/app', 'alice', 'write');
    tmp = await mkdtemp(join(tmpdir(), 'forge-test-'));
  });

  afterEach(async () => {
    await forge.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${forge.url}${path}`, {
      ...init,
      headers: {
        accept: 'application/vnd.github+json',
        ...(init.token ? { authorization: `token ${init.token}` } : {}),
      },
    });

  it('serves issues and comments with GitHub shapes, pagination and errors', async () => {
    const issue = forge.createIssue('acme/app', { title: 'Bug', body: 'broken', as: 'mallory' });
    for (let i = 0; i < 5; i++) forge.comment('acme/app', issue.number, `c${i}`, 'mallory');

    const got = (await (
      await api(`/repos/acme/app/issues/${issue.number}`, { token: alice })
    ).json()) as Record<string, unknown>;
    expect(got).toMatchObject({
      number: 1,
      title: 'Bug',
      state: 'open',
      user: { login: 'mallory', type: 'User' },
      comments: 5,
      html_url: `${forge.webUrl}/acme/app/issues/1`,
    });
    expect(got.node_id).toEqual(expect.any(String));

    const page1 = await api(`/repos/acme/app/issues/1/comments?per_page=2`, { token: alice });
    expect(((await page1.json()) as Array<{ body: string }>).map((c: { body: string }) => c.body)).toEqual([
      'c0',
      'c1',
    ]);
    expect(page1.headers.get('link')).toContain('rel="next"');
    expect(page1.headers.get('link')).toMatch(/page=3>; rel="last"/);

    const missing = await api('/repos/acme/app/issues/99', { token: alice });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ message: 'Not Found' });
    expect((await api('/user', { token: 'ghp_nope' })).status).toBe(401);

    const refused = await api('/repos/acme/app/issues/1/labels', {
      token: forge.createUser('bob').token,
      method: 'POST',
      body: JSON.stringify({ labels: ['droid'] }),
    });
    expect(refused.status).toBe(403);
    expect(forge.rest.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/repos/acme/app/issues/1/labels',
      status: 403,
      login: 'bob',
    });
  });

  it('delivers signed webhooks asynchronously and records deliveries', async () => {
    const hook = await receiver();
    try {
      forge.webhooks.configure({ url: hook.url, secret: 'topsecret1' });
      const issue = forge.createIssue('acme/app', { title: 'Bug', as: 'mallory' });
      const res = await api(`/repos/acme/app/issues/${issue.number}/labels`, {
        token: alice,
        method: 'POST',
        body: JSON.stringify({ labels: ['droid'] }),
      });
      expect(await res.json()).toMatchObject([{ name: 'droid' }]);
      await forge.webhooks.idle();
      const labeled = hook.received.find(
        (r) => r.headers['x-github-event'] === 'issues' && r.body.includes('"labeled"'),
      );
      expect(labeled).toBeDefined();
      expect(labeled?.headers['x-hub-signature-256']).toBe(signBody('topsecret1', labeled?.body ?? ''));
      expect(JSON.parse(labeled?.body ?? '{}')).toMatchObject({
        action: 'labeled',
        label: { name: 'droid' },
        issue: { number: 1 },
        repository: { full_name: 'acme/app' },
        sender: { login: 'alice', type: 'User' },
      });
      expect(forge.webhooks.deliveries.every((d) => d.statusCode === 200)).toBe(true);
    } finally {
      hook.server.close();
    }
  });

  it('clones and pushes over smart HTTP with a token, refuses without', async () => {
    const url = forge.gitUrl('acme', 'app');
    const authed = url.replace('http://', `http://x-access-token:${alice}@`);
    await git(tmp, 'clone', '--quiet', authed, 'work');
    const work = join(tmp, 'work');
    expect(await readFile(join(work, 'src/a.ts'), 'utf8')).toBe('export {}\n');
    await writeFile(join(work, 'fix.txt'), 'fixed\n');
    await git(work, 'checkout', '-q', '-b', 'droid/1-fix');
    await git(work, 'add', 'fix.txt');
    await git(work, '-c', 'user.name=A', '-c', 'user.email=a@x', 'commit', '-q', '-m', 'fix');
    await git(work, 'push', '-q', 'origin', 'droid/1-fix');
    const { stdout } = await git(work, 'rev-parse', 'HEAD');
    expect(await forge.refSha('acme/app', 'refs/heads/droid/1-fix')).toBe(stdout.trim());

    await git(work, 'remote', 'set-url', 'origin', url);
    await expect(git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/other')).rejects.toThrow();
    await forge.createRepo({ owner: 'acme', name: 'secret', private: true });
    await expect(git(tmp, 'clone', '--quiet', forge.gitUrl('acme', 'secret'), 'nope')).rejects.toThrow();
  });

  it('opens and merges a pull request with real git, emitting pull_request events', async () => {
    await forge.commit('acme/app', { branch: 'droid/2-x', files: { 'x.txt': 'x\n' }, message: 'x' });
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${forge.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${alice}` },
        body: JSON.stringify(body),
      });
    const created = await post('/repos/acme/app/pulls', {
      title: 'X',
      head: 'acme:droid/2-x',
      base: 'main',
      body: 'Closes #1',
    });
    expect(created.status).toBe(201);
    const pr = (await created.json()) as { number: number; head: { sha: string } };
    expect(pr.head.sha).toBe(await forge.refSha('acme/app', 'droid/2-x'));
    const dup = await post('/repos/acme/app/pulls', { title: 'X', head: 'droid/2-x', base: 'main' });
    expect(dup.status).toBe(422);
    const listed = await fetch(`${forge.url}/repos/acme/app/pulls?head=acme:droid/2-x&state=open`);
    expect(((await listed.json()) as unknown[]).length).toBe(1);
    const merged = await post(`/repos/acme/app/pulls/${pr.number}/merge`, { merge_method: 'squash' }, 'PUT');
    expect(await merged.json()).toMatchObject({ merged: true });
    expect(await forge.readFile('acme/app', 'x.txt')).toBe('x\n');
    const closed = forge.events.find((e) => e.name === 'pull_request' && e.action === 'closed');
    expect(closed?.payload).toMatchObject({ pull_request: { merged: true, number: pr.number } });
  });
});
