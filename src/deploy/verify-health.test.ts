import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../config/repo-config.js';
import { verifyHealth } from './verify-health.js';

let status = 200;
let body = 'ok';
let url = '';
const server = createServer((_req, res) => res.writeHead(status).end(body));
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const health = (extra: string) =>
  parseRepoConfig(
    `deploy:\n  environments:\n    - name: s\n      deployer: { command: x }\n      health: { url: "${url}", intervalSec: 0.05, ${extra} }\n`,
  ).deploy!.environments[0]!.health!;
const signal = new AbortController().signal;

describe('verifyHealth over real HTTP', () => {
  it('healthy after `successes` consecutive passes', async () => {
    status = 200;
    body = 'all ok';
    const outcome = await verifyHealth(health('successes: 3, bodyContains: ok'), { signal });
    expect(outcome).toMatchObject({ healthy: true, by: 'successes' });
    expect(outcome.probes).toHaveLength(3);
  });

  it('failed after `failures` consecutive failures, with what the probe saw', async () => {
    status = 503;
    body = 'database down';
    const outcome = await verifyHealth(health('failures: 2'), { signal });
    expect(outcome).toMatchObject({ healthy: false, by: 'failures', reason: '2 consecutive failing probes' });
    expect(outcome.probes[0]!.detail).toContain('HTTP 503 (expected 200): database down');
  });

  it('a body without bodyContains fails; neither threshold in timeoutSec fails by timeout', async () => {
    status = 200;
    body = 'degraded';
    const outcome = await verifyHealth(
      health('bodyContains: ok, successes: 2, failures: 1000, timeoutSec: 1'),
      {
        signal,
      },
    );
    expect(outcome).toMatchObject({ healthy: false, by: 'timeout' });
    expect(outcome.probes.at(-1)!.detail).toContain('without "ok"');
  });

  it('a host outside DROIDWORKS_DEPLOY_ALLOW_HOSTS is a failed probe, never a request', async () => {
    const outcome = await verifyHealth(health('failures: 1'), { signal, allowHosts: ['deploy.example.com'] });
    expect(outcome.probes[0]!.detail).toContain('not an allowed host');
  });
});
