import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { createDockerSandboxProvider, type DockerSandboxProvider } from './docker-sandbox-provider.js';
import { tarArchive } from './egress-image.js';
import { ensureEgressNetwork } from './egress-proxy-sidecar.js';
import type { Sandbox } from './types.js';

const docker = new Docker();
const config = loadConfig({});

/** Probes from inside the sandbox with Node (the runner image has no curl): prints `<status> <body>`. */
const PROBE = `
import http from 'node:http';
import net from 'node:net';
const [mode, target] = process.argv.slice(2);
const proxy = { host: 'dw-egress-proxy', port: 3128 };
const done = (s) => { console.log(s); process.exit(0); };
setTimeout(() => done('timeout'), 8000);
if (mode === 'get') {
  const u = new URL(target);
  http.get({ ...proxy, path: target, headers: { host: u.host } }, (res) => {
    let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => done(res.statusCode + ' ' + b.trim()));
  }).on('error', (e) => done('error ' + e.message));
} else if (mode === 'connect') {
  const req = http.request({ ...proxy, method: 'CONNECT', path: target });
  req.on('connect', (res, socket) => {
    if (res.statusCode !== 200) return done(res.statusCode + ' refused');
    socket.write('GET / HTTP/1.1\\r\\nhost: ' + target + '\\r\\nconnection: close\\r\\n\\r\\n');
    let b = ''; socket.on('data', (c) => (b += c)); socket.on('end', () => done('200 ' + b.split('\\r\\n\\r\\n')[1]));
  });
  req.on('error', (e) => done('error ' + e.message));
  req.end();
} else if (mode === 'direct') {
  const [host, port] = target.split(':');
  const s = net.connect({ host, port: Number(port), timeout: 3000 }, () => done('OPEN'));
  s.on('timeout', () => done('closed')); s.on('error', () => done('closed'));
}
`;

describeDocker('sandbox network allowlist (egress proxy)', () => {
  const runId = `t-egress-${process.pid}`;
  const egressNetwork = `dw-egress-test-${process.pid}`;
  let provider: DockerSandboxProvider;
  let sandbox: Sandbox;
  let workRoot: string;
  let server: Server;
  let port = 0;
  let gateway = '';
  const requests: string[] = [];
  const logs: string[] = [];
  let tarball: Buffer;

  beforeAll(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'dw-egress-'));
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          logs.push(chunk.toString());
          cb();
        },
      }),
    });
    // The test's "internet": a server on the host, reached through the egress network's gateway.
    const pkg = { name: 'tiny-dep', version: '1.0.0', main: 'index.js' };
    tarball = gzipSync(
      tarArchive([
        { name: 'package/package.json', body: JSON.stringify(pkg) },
        { name: 'package/index.js', body: "module.exports = 'tiny-dep works';\n" },
      ]),
    );
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.headers.host} ${req.url}`);
      const base = `http://registry.test:${port}`;
      if (req.url === '/tiny-dep') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            name: 'tiny-dep',
            'dist-tags': { latest: '1.0.0' },
            versions: { '1.0.0': { ...pkg, dist: { tarball: `${base}/tiny-dep/-/tiny-dep-1.0.0.tgz` } } },
          }),
        );
      } else if (req.url === '/tiny-dep/-/tiny-dep-1.0.0.tgz') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(tarball);
      } else if (req.url === '/') res.end('hello from the allowed host');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as { port: number }).port;
    const gateways = await ensureEgressNetwork(docker, egressNetwork, logger);
    gateway = gateways[0] ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    provider = createDockerSandboxProvider(
      {
        ...config.sandbox,
        memoryMb: 512,
        pids: 256,
        commandTimeoutSec: 120,
        egress: {
          network: egressNetwork,
          // Operator pins: names the proxy trusts although they resolve to the host.
          hosts: { 'allowed.test': gateway, 'registry.test': gateway, 'other.test': gateway },
        },
      },
      { logger, workRoot },
    );
    sandbox = await provider.acquire({
      runId,
      networkAllowlist: [`allowed.test:${port}`, `registry.test:${port}`, `localhost:${port}`, 'localhost'],
    });
    await writeFile(join(sandbox.workspaceDir, 'probe.mjs'), PROBE);
  }, 120_000);

  afterAll(async () => {
    await sandbox?.release();
    await provider?.close();
    server?.close();
    await docker
      .getNetwork(egressNetwork)
      .remove()
      .catch(() => undefined);
    await rm(workRoot, { recursive: true, force: true });
  });

  const probe = async (mode: string, target: string) =>
    (await sandbox.exec(`node probe.mjs ${mode} '${target}'`)).stdout.trim();

  it('reaches an allowed host through the proxy, by plain HTTP and by CONNECT', async () => {
    expect(await probe('get', `http://allowed.test:${port}/`)).toBe('200 hello from the allowed host');
    expect(await probe('connect', `allowed.test:${port}`)).toBe('200 hello from the allowed host');
    // Tools that read the standard variables use it without being told.
    const py = await sandbox.exec(
      `python3 -c "import urllib.request; print(urllib.request.urlopen('http://allowed.test:${port}/', timeout=5).read().decode())"`,
    );
    expect(py.stdout.trim()).toBe('hello from the allowed host');
    const env = await sandbox.exec('echo "$HTTPS_PROXY $https_proxy $NO_PROXY"');
    expect(env.stdout.trim()).toBe(
      'http://dw-egress-proxy:3128 http://dw-egress-proxy:3128 localhost,127.0.0.1,::1',
    );
  });

  it('refuses hosts not on the list, raw IPs, the host machine and names resolving to loopback', async () => {
    const before = requests.length;
    const hostAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4')
      .map((a) => a?.address ?? '');
    const cases = [
      ['get', `http://other.test:${port}/`, /^403 .*other\.test:\d+ is not in network\.allow/],
      ['connect', `other.test:${port}`, /^403 refused$/],
      ['get', `http://${gateway}:${port}/`, /^403 .*is not in network\.allow/],
      ['connect', `${gateway}:${port}`, /^403 refused$/],
      ...hostAddresses.map((a) => ['connect', `${a}:${port}`, /^403 refused$/] as const),
      ['get', `http://localhost:${port}/`, /^403 .*localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/],
      ['connect', `localhost:${port}`, /^403 refused$/],
      ['connect', 'localhost:443', /^403 refused$/],
      ['get', `http://allowed.test:${port + 1}/`, /^403 .*is not in network\.allow/],
    ] as const;
    for (const [mode, target, expected] of cases) expect(await probe(mode, target), target).toMatch(expected);
    expect(requests.length).toBe(before);
    const refusals = logs.filter((l) => l.includes('egress proxy refused a connection'));
    expect(refusals.some((l) => l.includes('"host":"other.test"'))).toBe(true);
    expect(refusals.some((l) => l.includes('"host":"localhost"') && l.includes('loopback'))).toBe(true);
  }, 90_000);

  it('has no route out but the proxy', async () => {
    const hostAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4')
      .map((a) => a?.address ?? '');
    for (const host of [gateway, ...hostAddresses])
      expect(await probe('direct', `${host}:${port}`), host).toBe('closed');
    const dns = await sandbox.exec(
      'timeout 3 getent hosts allowed.test || timeout 3 getent hosts example.com || echo no-dns',
    );
    expect(dns.stdout.trim()).toBe('no-dns');
  }, 60_000);

  it('runs `npm ci` against a registry on the allow-list', async () => {
    const resolved = `http://registry.test:${port}/tiny-dep/-/tiny-dep-1.0.0.tgz`;
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    await writeFile(join(sandbox.workspaceDir, '.npmrc'), `registry=http://registry.test:${port}/\n`);
    await writeFile(
      join(sandbox.workspaceDir, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { 'tiny-dep': '1.0.0' } }),
    );
    await writeFile(
      join(sandbox.workspaceDir, 'package-lock.json'),
      JSON.stringify({
        name: 'app',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'app', version: '1.0.0', dependencies: { 'tiny-dep': '1.0.0' } },
          'node_modules/tiny-dep': { version: '1.0.0', resolved, integrity },
        },
      }),
    );
    const r = await sandbox.exec('npm ci --no-audit --no-fund && node -p "require(\'tiny-dep\')"');
    expect(r.stderr + r.stdout).not.toMatch(/ERR!/);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('tiny-dep works');
    expect(requests).toContain(`GET registry.test:${port} /tiny-dep/-/tiny-dep-1.0.0.tgz`);
  }, 120_000);

  it('fails the acquire with the cause when the proxy image cannot be built, leaving nothing', async () => {
    const broken = createDockerSandboxProvider(
      {
        ...config.sandbox,
        image: 'droidworks/no-such-runner:0',
        egress: { network: egressNetwork, hosts: {} },
      },
      { logger: createLogger({ level: 'silent' }), workRoot },
    );
    const id = `${runId}-noimage`;
    try {
      const failed = broken.acquire({ runId: id, networkAllowlist: ['registry.test'] });
      await expect(failed).rejects.toThrow(`sandbox acquire failed for run ${id}`);
      await expect(failed).rejects.toHaveProperty('cause.statusCode', 404);
    } finally {
      await broken.close();
    }
    const left = await docker.listNetworks({ filters: JSON.stringify({ label: [`${LABELS.runId}=${id}`] }) });
    expect(left).toHaveLength(0);
  });

  it('leaves nothing behind: release and the start-up sweep remove the proxy', async () => {
    const other = `${runId}-swept`;
    await provider.acquire({ runId: other, networkAllowlist: ['registry.test'] });
    const byRun = async (id: string) => ({
      containers: await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`${LABELS.runId}=${id}`] }),
      }),
      networks: await docker.listNetworks({ filters: JSON.stringify({ label: [`${LABELS.runId}=${id}`] }) }),
    });
    const live = await byRun(other);
    expect(live.containers.map((c) => c.Labels[LABELS.role]).sort()).toEqual(['egress-proxy', 'run']);
    await provider.sweep((id) => id !== other);
    const swept = await byRun(other);
    expect(swept.containers).toHaveLength(0);
    expect(swept.networks).toHaveLength(0);
  }, 60_000);
});
