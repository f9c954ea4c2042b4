import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { tarArchive } from '../../src/sandbox/egress-image.js';
import { describeDocker } from '../support/docker.js';
import { droidworksContainers, openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const redisUrl = inject('redisUrl');

/**
 * `.droidworks.yml` with `install: npm ci` and `network: { allow: [<registry>] }`, end to end: the
 * run's sandbox installs a dependency from a registry stub on this machine (reached by a name the
 * operator pinned, through the run's egress proxy), and the run ends with its PR.
 */
describeDocker('network.allow: install from a registry through the egress proxy', () => {
  const egressNetwork = `dw-egress-e2e-${process.pid}`;
  let registry: Server;
  let port = 0;
  let e2e: E2E | undefined;
  const requests: string[] = [];
  const pkg = { name: 'tiny-dep', version: '1.0.0', main: 'index.js' };
  const tarball = gzipSync(
    tarArchive([
      { name: 'package/package.json', body: JSON.stringify(pkg) },
      { name: 'package/index.js', body: "module.exports = 'tiny-dep works';\n" },
    ]),
  );

  beforeAll(async () => {
    registry = createServer((req, res) => {
      requests.push(`${req.method} ${req.headers.host} ${req.url}`);
      if (req.url === '/tiny-dep/-/tiny-dep-1.0.0.tgz') res.end(tarball);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => registry.listen(0, '0.0.0.0', r));
    port = (registry.address() as { port: number }).port;
    await run('docker', ['network', 'create', egressNetwork]);
    const gateway = (
      await run('docker', ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', egressNetwork])
    ).stdout.trim();
    e2e = await startE2E(redisUrl, {
      env: { DROIDWORKS_EGRESS_NETWORK: egressNetwork, DROIDWORKS_EGRESS_HOSTS: `registry.test=${gateway}` },
    });
  }, 120_000);

  afterAll(async () => {
    await e2e?.close();
    registry?.close();
    await run('docker', ['network', 'rm', egressNetwork]).catch(() => undefined);
  });

  it('runs `npm ci` in the sandbox against the allowed registry and opens the PR', async () => {
    const { stack } = e2e!;
    const resolved = `http://registry.test:${port}/tiny-dep/-/tiny-dep-1.0.0.tgz`;
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    const manifest = {
      name: 'calculator',
      version: '1.0.0',
      type: 'commonjs',
      scripts: { test: 'node --test' },
      dependencies: { 'tiny-dep': '1.0.0' },
    };
    await stack.forge.commit(stack.repo.full, {
      message: 'use tiny-dep',
      files: {
        '.droidworks.yml': `install: npm ci --no-audit --no-fund\nnetwork:\n  allow: ['registry.test:${port}']\n`,
        '.npmrc': `registry=http://registry.test:${port}/\n`,
        '.gitignore': 'node_modules/\n',
        'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
        'package-lock.json': JSON.stringify({
          name: 'calculator',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'calculator', version: '1.0.0', dependencies: { 'tiny-dep': '1.0.0' } },
            'node_modules/tiny-dep': { version: '1.0.0', resolved, integrity },
          },
        }),
      },
    });
    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.' });
    expect(await waitFor('droid:done or droid:failed', () => outcomeOf(stack, issue.number), 150_000)).toBe(
      'droid:done',
    );
    expect(requests).toContain(`GET registry.test:${port} /tiny-dep/-/tiny-dep-1.0.0.tgz`);
    const started = e2e!.logs.find((l) => l.includes('sandbox egress proxy started'));
    const runId = (JSON.parse(started ?? '{}') as { runId?: string }).runId ?? '';
    const events = await stack.services!.ledger.events(runId);
    expect(events.filter((e) => e.type === 'install').map((e) => 'exitCode' in e && e.exitCode)).toEqual([0]);
    // The proxy went with the run's sandbox.
    await waitFor('no container left', async () => (await droidworksContainers(stack)).length === 0, 15_000);
  });
});
