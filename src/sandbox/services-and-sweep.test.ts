import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { createDockerSandboxProvider, type DockerSandboxProvider } from './docker-sandbox-provider.js';
import { runTests } from './run-tests.js';
import type { ServiceSpec } from './types.js';

const docker = new Docker();
const config = loadConfig({});

const byRun = async (runId: string) => ({
  containers: await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABELS.runId}=${runId}`] }),
  }),
  networks: await docker.listNetworks({ filters: JSON.stringify({ label: [`${LABELS.runId}=${runId}`] }) }),
});

describeDocker('docker sandbox services and sweep', () => {
  let provider: DockerSandboxProvider;
  let workRoot: string;

  beforeAll(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'dw-services-'));
    provider = createDockerSandboxProvider(
      { ...config.sandbox, memoryMb: 256, pids: 256, commandTimeoutSec: 30 },
      { logger: createLogger({ level: 'silent' }), workRoot },
    );
  });

  afterAll(async () => {
    await provider?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  const web = (marker: string): ServiceSpec => ({
    name: 'web',
    image: config.sandbox.image,
    command: [
      'bash',
      '-c',
      `mkdir -p /tmp/www && echo ${marker} > /tmp/www/index.html && cd /tmp/www && exec python3 -m http.server 8000`,
    ],
    health: `python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"`,
    healthTimeoutMs: 20_000,
  });

  it("runs tests against a sidecar by name; another run's sidecar is unreachable", async () => {
    const a = await provider.acquire({ runId: `t-svc-a-${process.pid}`, services: [web('from-a')] });
    const b = await provider.acquire({ runId: `t-svc-b-${process.pid}`, services: [web('from-b')] });
    try {
      const fetchWeb = `python3 -c "import urllib.request; print(urllib.request.urlopen('http://web:8000/', timeout=5).read().decode().strip())"`;
      const report = await runTests(a, { test: `${fetchWeb} | grep -qx from-a` });
      expect(report.passed).toBe(true);
      expect((await b.exec(fetchWeb)).stdout.trim()).toBe('from-b');

      // a's sidecar, addressed by IP from b: no route between the two runs' networks.
      const aIp = (await a.exec('getent hosts web')).stdout.split(/\s+/)[0] ?? '';
      expect(aIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const cross = await b.exec(
        `timeout 3 bash -c 'echo > /dev/tcp/${aIp}/8000' && echo OPEN || echo closed`,
      );
      expect(cross.stdout.trim()).toBe('closed');
      // Nor does the run reach out of its internal network.
      const out = await a.exec('timeout 3 getent hosts example.com || echo no-dns');
      expect(out.stdout.trim()).toBe('no-dns');
    } finally {
      await a.release();
      await b.release();
    }
    const left = await byRun(`t-svc-a-${process.pid}`);
    expect(left.containers).toHaveLength(0);
    expect(left.networks).toHaveLength(0);
  }, 60_000);

  it('sweeps what a worker killed with SIGKILL left behind', async () => {
    const runId = `t-killed-${process.pid}`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/sandbox/acquire-and-hang.ts', runId, workRoot],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      expect(line).toMatch(/^ready /);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    const before = await byRun(runId);
    expect(before.containers).toHaveLength(2);
    expect(before.networks).toHaveLength(1);

    const report = await provider.sweep((id) => id !== runId);
    expect(report.containers.length).toBeGreaterThanOrEqual(2);
    const after = await byRun(runId);
    expect(after.containers).toHaveLength(0);
    expect(after.networks).toHaveLength(0);
  }, 60_000);
});
