import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { fakeReply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startForge, type Forge } from '../support/github-simulator.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const IMAGE = 'droidworks/droidworks:e2e';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * The product's own image, as infra/docker-compose.yml runs it: built from the Dockerfile on a
 * base made locally (debootstrap + this machine's Node: no registry is reachable here), the Docker
 * socket and the data directory mounted at the same absolute path, the entrypoint joining the
 * socket's group and dropping to uid 1000. It must answer /healthz, report healthy to Docker, and
 * run a command in a real sandbox on this engine.
 */
describeDocker('the product image runs sandboxes on the Docker host', () => {
  const name = `dw-e2e-product-${process.pid}`;
  let dataDir: string;
  let model: FakeModelServer;
  // droidworks checks GitHub before it says ready: the simulator plays it, on loopback.
  let forge: Forge;
  let github: string[] = [];
  let port = 0;

  beforeAll(async () => {
    await run('bash', ['scripts/build-runner-image.sh'], { timeout: 600_000 });
    // Docker's layer cache keeps this to the changed layers after the first build; under
    // scripts/test.sh the first build ran beside the unit tests, and this waits for it (flock).
    await run('bash', ['scripts/build-product-image.sh', IMAGE], {
      timeout: 900_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    dataDir = await mkdtemp(join(tmpdir(), 'dw-product-data-'));
    model = await startFakeModelServer();
    forge = await startForge();
    github = ['-e', `GITHUB_API_URL=${forge.url}`, '-e', `GITHUB_TOKEN=${forge.createUser('droid').token}`];
    port = await freePort();
    await run('docker', [
      'run',
      '-d',
      '--name',
      name,
      // Host networking only so the container reaches this test's Redis and model server on loopback.
      '--network',
      'host',
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock',
      '-v',
      `${dataDir}:${dataDir}`,
      '-e',
      `DROIDWORKS_DATA_DIR=${dataDir}`,
      '-e',
      `REDIS_URL=${inject('redisUrl')}`,
      '-e',
      `PORT=${port}`,
      '-e',
      'HOST=127.0.0.1',
      ...github,
      '-e',
      'GITHUB_WEBHOOK_SECRET=e2e-product-image-secret',
      '-e',
      `DROIDWORKS_QUEUE_PREFIX=dw-product-${process.pid}`,
      IMAGE,
      'start',
    ]);
  }, 1_200_000);

  afterAll(async () => {
    const logs = await run('docker', ['logs', '--tail', '40', name]).catch(() => undefined);
    if (logs) console.log(`--- ${name} logs ---\n${logs.stdout}${logs.stderr}`);
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
    await model?.close();
    await forge?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers /healthz and reports healthy to Docker', async () => {
    await waitFor(
      '/healthz',
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200,
      60_000,
    );
    await waitFor(
      'Docker to report the container healthy',
      async () =>
        (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', name])).stdout.trim() ===
        'healthy',
      90_000,
      1000,
    );
    // The worker's own check: Docker engine and Redis both answer.
    await run('docker', ['exec', name, 'node', '/usr/local/lib/droidworks/healthcheck.mjs', 'worker']);
    // droidworks itself runs as uid 1000 with the socket's group, and owns the data directory.
    const main = await run('docker', ['exec', name, 'stat', '-c', '%u', '/proc/1']);
    expect(main.stdout.trim()).toBe('1000');
    expect((await run('stat', ['-c', '%u', dataDir])).stdout.trim()).toBe('1000');
  }, 180_000);

  it("runs as `worker` alone (compose's worker service) and reports healthy: Docker and Redis answer", async () => {
    const worker = `${name}-worker`;
    try {
      await run('docker', [
        'run',
        '-d',
        '--name',
        worker,
        '--network',
        'host',
        '-v',
        '/var/run/docker.sock:/var/run/docker.sock',
        '-v',
        `${dataDir}:${dataDir}`,
        '-e',
        `DROIDWORKS_DATA_DIR=${dataDir}`,
        '-e',
        `REDIS_URL=${inject('redisUrl')}`,
        ...github,
        '-e',
        `DROIDWORKS_QUEUE_PREFIX=dw-product-${process.pid}`,
        // Docker's default interval is 10 s; the worker's check is the image's own HEALTHCHECK.
        '--health-interval',
        '2s',
        IMAGE,
        'worker',
      ]);
      await waitFor(
        'the worker container to report healthy',
        async () =>
          (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', worker])).stdout.trim() ===
          'healthy',
        90_000,
        1000,
      );
      await waitFor(
        'the worker to log that it is ready',
        async () => (await run('docker', ['logs', worker])).stdout.includes('worker ready'),
        60_000,
        500,
      );
    } finally {
      await run('docker', ['rm', '-f', worker]).catch(() => undefined);
    }
  }, 180_000);

  it('runs a command in a sandbox on the host engine, with the workspace under the data directory', async () => {
    const checkout = join(dataDir, 'checkout');
    await mkdir(checkout);
    await run('git', ['init', '-q', checkout]);
    await run('chown', ['-R', '1000:1000', checkout]);
    model.enqueue(
      fakeReply.tool('bash', {
        command: 'echo "uid=$(id -u) pid1=$(tr "\\0" " " < /proc/1/cmdline)" > proof.txt; cat proof.txt',
      }),
      fakeReply.tool('finish', { summary: 'wrote proof.txt' }),
    );
    const models = ['PLANNER', 'CODER', 'REVIEWER', 'SUMMARIZER'].flatMap((r) => [
      '-e',
      `DROIDWORKS_MODEL_${r}=openai:gpt-5.1`,
    ]);
    const result = await run(
      'docker',
      [
        'exec',
        '-u',
        'node',
        '-e',
        'OPENAI_API_KEY=sk-e2e-product-image-0123456789',
        '-e',
        `OPENAI_BASE_URL=${model.openaiBaseUrl}`,
        ...models,
        name,
        'node',
        '/app/dist/cli/main.js',
        'run',
        '--dir',
        checkout,
        '--task',
        'write proof.txt',
      ],
      { timeout: 120_000 },
    );
    expect(result.stdout).toContain('stopped: finished');
    // Written inside the sandbox (its pid 1 is the idle `sleep infinity`, not the worker), as uid
    // 1000, into the workspace the engine mounted from the host path.
    const proof = await readFile(join(checkout, 'proof.txt'), 'utf8');
    expect(proof).toMatch(/^uid=1000 pid1=.*sleep infinity/);
    // Released: no sandbox of a `run --dir` run is left on the engine.
    const left = await run('docker', ['ps', '-a', '--format', '{{.Label "droidworks.run-id"}}']);
    expect(left.stdout.split('\n').filter((id) => id.startsWith('local-'))).toEqual([]);
  }, 180_000);
});
