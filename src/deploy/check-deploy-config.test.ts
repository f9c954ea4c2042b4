import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../config/repo-config.js';
import { checkDeployConfig, hostAllowed } from './check-deploy-config.js';

describe('hostAllowed', () => {
  it.each<[string, string[] | undefined, boolean]>([
    ['https://deploy.example.com/hook', undefined, true],
    ['http://127.0.0.1:8080/x', undefined, true],
    ['https://deploy.example.com/hook', ['deploy.example.com'], true],
    ['https://evil.example.com/hook', ['deploy.example.com'], false],
    ['https://a.b.example.com/', ['*.example.com'], true],
    ['https://example.com/', ['*.example.com'], false],
    ['http://127.0.0.1:8080/x', ['127.0.0.1:8080'], true],
    ['http://127.0.0.1:9090/x', ['127.0.0.1:8080'], false],
    ['https://host.example.com/', ['host.example.com:443'], true],
    ['http://[::1]:3000/', ['[::1]'], true],
    ['http://10.0.0.1/', ['*'], true],
    ['not a url', ['*'], false],
  ])('%s with %j → %s', (url, patterns, allowed) => {
    expect(hostAllowed(url, patterns)).toBe(allowed);
  });
});

describe('checkDeployConfig', () => {
  const config = parseRepoConfig(`
deploy:
  environments:
    - name: staging
      deployer: { webhook: { url: "https://deploy.example.com/hook", secret: DEPLOY_HOOK } }
      rollback: { command: { run: ./rollback.sh, secrets: [ROLLBACK_TOKEN] } }
      health: { url: "https://staging.internal/healthz" }
`).deploy!;

  it('accepts known secrets and allowed hosts', () => {
    expect(
      checkDeployConfig(config, {
        secrets: { DEPLOY_HOOK: 'x', ROLLBACK_TOKEN: 'y' },
        allowHosts: ['deploy.example.com', 'staging.internal'],
        network: 'bridge',
      }),
    ).toEqual([]);
  });

  it('names every unknown secret and every host outside the allow list', () => {
    const problems = checkDeployConfig(config, {
      secrets: {},
      allowHosts: ['other.example.com'],
      network: 'bridge',
    });
    expect(problems.map((p) => p.path)).toEqual([
      'deploy.environments[0].deployer.webhook.secret',
      'deploy.environments[0].deployer.webhook.url',
      'deploy.environments[0].rollback.command.secrets',
      'deploy.environments[0].health',
    ]);
    expect(problems[0]!.message).toMatch(/DROIDWORKS_SECRET_DEPLOY_HOOK/);
  });
});
