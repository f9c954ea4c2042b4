import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { createDockerSandboxProvider, type DockerSandboxProvider } from './docker-sandbox-provider.js';
import { runTests } from './run-tests.js';
import type { Sandbox } from './types.js';

const docker = new Docker();
const HOST_SECRET = 'ghs_hostSecretThatMustNeverEnterTheSandbox0001';

async function containersOf(runId: string): Promise<string[]> {
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABELS.runId}=${runId}`] }),
  });
  return list.map((c) => c.Id);
}

describeDocker('docker sandbox containment', () => {
  const runId = `t-contain-${process.pid}`;
  let provider: DockerSandboxProvider;
  let sandbox: Sandbox;
  let workRoot: string;
  let server: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    process.env.DROIDWORKS_TEST_HOST_SECRET = HOST_SECRET;
    workRoot = await mkdtemp(join(tmpdir(), 'dw-sandbox-'));
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as { port: number }).port;
    const config = loadConfig({});
    provider = createDockerSandboxProvider(
      { ...config.sandbox, memoryMb: 256, pids: 128, cpus: 1, commandTimeoutSec: 30 },
      { logger: createLogger({ level: 'silent' }), workRoot, maxOutputBytes: 64 * 1024 },
    );
    sandbox = await provider.acquire({ runId });
  });

  afterAll(async () => {
    delete process.env.DROIDWORKS_TEST_HOST_SECRET;
    await sandbox?.release();
    await provider?.close();
    server?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  it('runs as uid 1000 in /workspace, with the workspace shared with the host', async () => {
    const r = await sandbox.exec('id -u; pwd; echo from-sandbox > note.txt');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('1000\n/workspace\n');
    expect(await readFile(join(sandbox.workspaceDir, 'note.txt'), 'utf8')).toBe('from-sandbox\n');
  });

  it('reaches no network: the host on every address, and DNS', async () => {
    const addresses = ['127.0.0.1'];
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? [])
        if (a.family === 'IPv4' && !addresses.includes(a.address)) addresses.push(a.address);
    expect(addresses.length).toBeGreaterThan(1);
    // Sanity: the port is reachable from the host itself.
    await promisify(execFile)('bash', ['-c', `echo > /dev/tcp/127.0.0.1/${port}`]);
    const before = connections;
    const script = addresses
      .map(
        (h) =>
          `timeout 3 bash -c 'echo > /dev/tcp/${h}/${port}' 2>/dev/null && echo "OPEN ${h}" || echo "closed ${h}"`,
      )
      .join('; ');
    const r = await sandbox.exec(
      `${script}; getent hosts example.com && echo DNS-OK || echo no-dns; cat /proc/net/route | wc -l`,
    );
    expect(r.stdout).not.toContain('OPEN');
    for (const h of addresses) expect(r.stdout).toContain(`closed ${h}`);
    expect(r.stdout).toContain('no-dns');
    // Only the header line: no route at all.
    expect(r.stdout.trim().endsWith('1')).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(connections).toBe(before + 0);
  });

  it('sees no host environment variable nor token', async () => {
    // The container's own process belongs to another user: its environment is not even readable.
    const r = await sandbox.exec("env; echo ---; tr '\\0' '\\n' < /proc/1/environ || echo PID1-UNREADABLE");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('PID1-UNREADABLE');
    const pid1 = (await docker.getContainer(sandbox.containerId ?? '').inspect()).Config.Env.join('\n');
    for (const env of [r.stdout, pid1]) {
      expect(env).not.toContain(HOST_SECRET);
      expect(env).not.toContain('DROIDWORKS_TEST_HOST_SECRET');
      for (const key of ['npm_config_cache', 'VITEST', 'NODE_OPTIONS', 'TERM'])
        if (process.env[key]) expect(env).not.toContain(`${key}=`);
    }
    expect(r.stdout).toContain('HOME=/home/droid');
  });

  it('refuses writes outside /workspace, /tmp and home', async () => {
    const r = await sandbox.exec(
      'for p in /etc/x /usr/x /x /var/x /workspace/ok /tmp/ok "$HOME/ok"; do touch "$p" 2>/dev/null && echo "W $p" || echo "R $p"; done',
    );
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'R /etc/x',
      'R /usr/x',
      'R /x',
      'R /var/x',
      'W /workspace/ok',
      'W /tmp/ok',
      'W /home/droid/ok',
    ]);
    const caps = await sandbox.exec('grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status');
    expect(caps.stdout).toMatch(/CapEff:\s+0+\n/);
    expect(caps.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('runs a command through an exec started ahead of it, with its cwd and env', async () => {
    await sandbox.exec('mkdir -p "dir with space"');
    // The wrapper that ran the command is the parent of `timeout`, the command's parent.
    const r = await sandbox.exec(
      [
        'echo "pwd=$PWD"',
        `printf 'A=%s;B=%s;\\n' "$A" "$B"`,
        `echo "wrapper=$(tr '\\0' ' ' < /proc/$(ps -o ppid= -p $PPID | tr -d ' ')/cmdline)"`,
      ].join('; '),
      { cwd: 'dir with space', env: { A: "it's a = b", B: 'two\nlines\n' } },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('pwd=/workspace/dir with space\n');
    expect(r.stdout).toContain("A=it's a = b;B=two\nlines\n;\n");
    expect(r.stdout).toMatch(/^wrapper=.*read -r t dl cl els/m);
  });

  it('survives a command that kills every process it may signal', async () => {
    const r = await sandbox.exec('kill -9 -1; echo unreachable');
    expect(r.exitCode).toBe(137);
    const after = await sandbox.exec('echo alive');
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toBe('alive\n');
  });

  it('runs the next command even when an escaped daemon killed the primed shell', async () => {
    await sandbox.exec("setsid sh -c 'sleep 0.3; kill -9 -1' >/dev/null 2>&1 &");
    await new Promise((r) => setTimeout(r, 800));
    const r = await sandbox.exec('printf ok');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('kills an endless loop and everything it started at the timeout', async () => {
    const r = await sandbox.exec('setsid sleep 1000 & sleep 1001 & while :; do :; done', { timeoutMs: 1500 });
    expect(r.timedOut).toBe(true);
    expect(r.oomKilled).toBe(false);
    expect(r.durationMs).toBeGreaterThanOrEqual(1500);
    expect(r.durationMs).toBeLessThan(6000);
    const ps = await sandbox.exec('ps -eo args');
    expect(ps.stdout).not.toMatch(/sleep 100[01]/);
  });

  it('kills the command when the caller aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const started = performance.now();
    await expect(sandbox.exec('sleep 1002', { signal: ac.signal })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(5000);
    const ps = await sandbox.exec('ps -eo args');
    expect(ps.stdout).not.toContain('sleep 1002');
  });

  it('caps a fork bomb at the pids limit and survives it', async () => {
    // The busy loop (a builtin) keeps the command alive while the bomb hits the limit.
    const r = await sandbox.exec('bomb() { bomb | bomb & }; bomb; while :; do :; done', { timeoutMs: 3000 });
    expect(r.timedOut).toBe(true);
    const after = await sandbox.exec(
      'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/pids.events 2>/dev/null || cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids.events; echo alive',
    );
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toMatch(/^128\n/);
    // The cgroup refused forks at its limit.
    expect(Number(/max (\d+)/.exec(after.stdout)?.[1])).toBeGreaterThan(0);
    expect(after.stdout).toContain('alive');
  });

  it('reports a memory hog as OOM-killed and survives it', async () => {
    const r = await sandbox.exec('python3 -c "b = bytearray(1024 * 1024 * 1024); print(len(b))"');
    expect(r.exitCode).toBe(137);
    expect(r.oomKilled).toBe(true);
    expect(r.timedOut).toBe(false);
    const ok = await sandbox.exec('echo still-here');
    expect(ok.stdout).toBe('still-here\n');
    expect(ok.oomKilled).toBe(false);
  });

  it('caps 1 GB of output, keeping head and tail, without the worker growing', async () => {
    const rss: number[] = [];
    const baseline = process.memoryUsage().rss;
    const timer = setInterval(() => rss.push(process.memoryUsage().rss), 50);
    const r = await sandbox.exec("printf START; head -c 1G /dev/zero | tr '\\0' a; printf END", {
      timeoutMs: 60_000,
    });
    clearInterval(timer);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.startsWith('STARTaaa')).toBe(true);
    expect(r.stdout.endsWith('aaaEND')).toBe(true);
    expect(r.stdout.length).toBeLessThan(70 * 1024);
    expect(r.truncatedBytes).toBeGreaterThan(1024 ** 3 - 70 * 1024);
    const growth = Math.max(...rss, baseline) - baseline;
    expect(growth).toBeLessThan(100 * 1024 * 1024);
  }, 90_000);

  it('runs a test command and reports failing tests', async () => {
    const w = (name: string, body: string) => sandbox.exec(`cat > ${name} <<'EOF_'\n${body}\nEOF_`);
    await w(
      'math.test.mjs',
      "import test from 'node:test'; import assert from 'node:assert';\ntest('adds', () => assert.equal(1 + 1, 2));\ntest('divides', () => assert.equal(1 / 1, 2));",
    );
    const report = await runTests(sandbox, { test: 'node --test --test-reporter=tap math.test.mjs' });
    expect(report.passed).toBe(false);
    expect(report.failedTests).toEqual(['divides']);
    expect(report.output).toContain('not ok');
  });

  it('leaves no container behind after release', async () => {
    const other = await provider.acquire({ runId: `${runId}-short` });
    expect(await containersOf(`${runId}-short`)).toHaveLength(1);
    await other.release();
    await other.release();
    expect(await containersOf(`${runId}-short`)).toHaveLength(0);
    expect(existsSync(other.workspaceDir)).toBe(false);
    await expect(other.exec('true')).rejects.toThrow(/released/);
  });
});
