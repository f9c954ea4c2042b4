import { afterEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { workflowDeployer } from './workflow-deployer.js';

const repo = { owner: 'acme', repo: 'app' };
const request = (sha: string) => ({
  action: 'deploy' as const,
  repository: 'acme/app',
  environment: 'production',
  sha,
  previousSha: null,
  deploymentId: 7,
  runId: 'app-1-abc',
});

describe('workflowDeployer against the simulator', () => {
  let forge: Forge | undefined;
  afterEach(async () => {
    await forge?.close();
    forge = undefined;
  });

  async function setup() {
    forge = await startForge();
    const token = forge.createUser('alice').token;
    await forge.createRepo({ owner: 'acme', name: 'app', files: { 'README.md': '# app\n' } });
    forge.setPermission('acme/app', 'alice', 'write');
    const host = createGitHubHost({
      apiUrl: forge.url,
      auth: { kind: 'token', token },
      webhookSecret: undefined,
      botLogin: undefined,
    });
    const sha = (await forge.refSha('acme/app', 'refs/heads/main'))!;
    return { forge, host, sha };
  }

  it.each([
    ['success', true],
    ['failure', false],
  ])('dispatches with sha, environment and action, follows the run to %s', async (conclusion, ok) => {
    const { forge, host, sha } = await setup();
    const seen: Array<Record<string, string>> = [];
    forge.actions.onDispatch((run) => {
      seen.push({ ...run.inputs });
      // The "workflow" finishes a moment later, as a real one would.
      setTimeout(() => forge.actions.complete(run.id, conclusion), 150);
    });
    const deploy = workflowDeployer({
      github: host,
      repo,
      file: 'deploy.yml',
      inputs: { region: 'eu' },
      timeoutSec: 30,
      pollMs: 50,
    });
    const result = await deploy(request(sha), new AbortController().signal);
    expect(seen).toEqual([{ region: 'eu', sha, environment: 'production', action: 'deploy' }]);
    expect(result.ok).toBe(ok);
    expect(result.summary).toContain(`concluded ${conclusion}`);
    expect(result.url).toMatch(/\/actions\/runs\/\d+$/);
  });

  it('fails when the run never concludes within timeoutSec', async () => {
    const { host, sha } = await setup();
    const deploy = workflowDeployer({
      github: host,
      repo,
      file: 'deploy.yml',
      inputs: {},
      timeoutSec: 1,
      pollMs: 50,
    });
    const result = await deploy(request(sha), new AbortController().signal);
    expect(result).toMatchObject({ ok: false, summary: 'workflow deploy.yml did not conclude within 1 s' });
  });
});
