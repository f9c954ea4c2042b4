import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { webhookBody, webhookDeployer } from './webhook-deployer.js';

const request = {
  action: 'rollback' as const,
  repository: 'acme/app',
  environment: 'production',
  sha: 'a'.repeat(40),
  previousSha: 'b'.repeat(40),
  deploymentId: 42,
  runId: 'app-1-abc',
};

describe('webhookDeployer over real HTTP', () => {
  const closers: Array<() => void> = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  async function receiver(status: number, delayMs = 0) {
    const seen: Array<{ headers: Record<string, unknown>; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        setTimeout(() => res.writeHead(status).end('x'.repeat(5000)), delayMs);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(
      () => server.closeAllConnections(),
      () => server.close(),
    );
    const address = server.address() as { port: number };
    return { url: `http://127.0.0.1:${address.port}/hook`, seen };
  }

  it('signs the exact body with GitHub’s scheme (verifiable by @octokit/webhooks)', async () => {
    const r = await receiver(204);
    const deploy = webhookDeployer({
      url: r.url,
      secret: 'hook-secret-123',
      timeoutSec: 5,
      allowHosts: undefined,
    });
    const result = await deploy(request, new AbortController().signal);
    expect(result.ok).toBe(true);
    const { headers, body } = r.seen[0]!;
    expect(body).toBe(webhookBody(request));
    expect(Object.keys(JSON.parse(body) as object)).toEqual([
      'action',
      'repository',
      'environment',
      'sha',
      'previousSha',
      'deploymentId',
      'runId',
    ]);
    expect(headers['x-droidworks-event']).toBe('rollback');
    expect(headers['content-type']).toBe('application/json');
    const signature = String(headers['x-droidworks-signature-256']);
    expect(signature).toBe(`sha256=${createHmac('sha256', 'hook-secret-123').update(body).digest('hex')}`);
    expect(await new Webhooks({ secret: 'hook-secret-123' }).verify(body, signature)).toBe(true);
  });

  it('a non-2xx fails with the status and the first 2 kB of the body', async () => {
    const r = await receiver(502);
    const result = await webhookDeployer({
      url: r.url,
      secret: 's3cr3t-value',
      timeoutSec: 5,
      allowHosts: undefined,
    })(request, new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.summary).toContain('HTTP 502');
    expect(result.output).toHaveLength(2048);
  });

  it('no answer within timeoutSec fails; a host outside the allow list is never called', async () => {
    const slow = await receiver(200, 3000);
    const result = await webhookDeployer({
      url: slow.url,
      secret: 's3cr3t-value',
      timeoutSec: 1,
      allowHosts: undefined,
    })(request, new AbortController().signal);
    expect(result).toMatchObject({ ok: false, summary: expect.stringContaining('within 1 s') });
    const r = await receiver(200);
    const refused = await webhookDeployer({
      url: r.url,
      secret: 's3cr3t-value',
      timeoutSec: 1,
      allowHosts: ['deploy.example.com'],
    })(request, new AbortController().signal);
    expect(refused.ok).toBe(false);
    expect(r.seen).toHaveLength(0);
  });
});
