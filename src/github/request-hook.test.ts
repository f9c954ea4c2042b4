import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { createGitHubHost } from './create-github-host.js';

describe('request hook timeouts', () => {
  let forge: Forge | undefined;
  afterEach(async () => forge?.close());

  it('a paginated call after an earlier one timed out on its own clock still works', async () => {
    forge = await startForge({ checkRunsRequireApp: false });
    await forge.createRepo({ owner: 'acme', name: 'app' });
    const { token } = forge.createUser('alice');
    forge.setPermission('acme/app', 'alice', 'write');
    const issue = forge.createIssue('acme/app', { title: 't', as: 'alice' });
    forge.comment('acme/app', issue.number, 'hello', 'alice');
    const github = createGitHubHost(
      { apiUrl: forge.url, auth: { kind: 'token', token }, webhookSecret: undefined, botLogin: undefined },
      { timeoutMs: 300 },
    );
    const ref = { owner: 'acme', repo: 'app', issueNumber: issue.number };
    expect(await github.listComments(ref)).toHaveLength(1);
    // Longer than the per-request timeout: a timeout signal left in shared options would fire now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await github.listComments(ref)).toHaveLength(1);
    // And the caller's own signal still reaches paginated requests.
    await expect(github.listComments(ref, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('octokit.paginate (hook deliveries) keeps working after the first page request timed out on its clock', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    forge = await startForge({ appId: 3, privateKey: pem });
    const github = createGitHubHost(
      {
        apiUrl: forge.url,
        auth: { kind: 'app', appId: '3', privateKey: pem },
        webhookSecret: undefined,
        botLogin: undefined,
      },
      { timeoutMs: 300 },
    );
    expect(await github.listFailedHookDeliveries()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await github.listFailedHookDeliveries()).toEqual([]);
    expect(await github.getAuthenticatedLogin()).toBe('droidworks[bot]');
  });
});
