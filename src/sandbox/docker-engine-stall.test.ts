import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../test/support/docker.js';
import { startStallingDocker, type StallingDocker } from '../../test/support/stalling-docker.js';
import { waitFor } from '../../test/support/wait-for.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { createDockerSandboxProvider, type DockerSandboxProvider } from './docker-sandbox-provider.js';
import type { Sandbox } from './types.js';

// The real engine behind a proxy that leaves chosen exec starts or removals unanswered
// (test/support/stalling-docker.ts): an engine that never answers one must cost a run at most a
// few seconds, and must leave no connection to it open once the sandbox is released.
describeDocker('docker sandbox when the engine leaves an exec start unanswered', () => {
  const engine = new Docker();
  let stalling: StallingDocker;
  let provider: DockerSandboxProvider;
  let workRoot: string;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    stalling = await startStallingDocker();
    workRoot = await mkdtemp(join(tmpdir(), 'dw-stall-'));
    provider = createDockerSandboxProvider(
      { ...loadConfig({}).sandbox, memoryMb: 256, pids: 128, cpus: 1, commandTimeoutSec: 30 },
      {
        logger: createLogger({ level: 'silent' }),
        workRoot,
        docker: new Docker({ socketPath: stalling.socketPath }),
        namespace: `stall${process.pid}`,
        removeTimeoutMs: 2_000,
        engineTimeoutMs: 2_000,
      },
    );
  });

  afterEach(async () => {
    stalling.holdExecStarts(0);
    stalling.holdRemovals(0);
    stalling.holdCreates(0);
    stalling.holdContainerStarts(0);
    await Promise.all(sandboxes.splice(0).map((s) => s.release()));
  });

  afterAll(async () => {
    await provider?.close();
    await stalling?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  const acquire = async (runId: string): Promise<Sandbox> => {
    const sandbox = await provider.acquire({ runId: `${runId}-${process.pid}` });
    sandboxes.push(sandbox);
    return sandbox;
  };

  it('runs the command through a new exec when the primed one is never started', async () => {
    // The sandbox primes an exec as soon as it exists: that start is the one held.
    stalling.holdExecStarts(1);
    const sandbox = await acquire('t-stall-prime');
    await waitFor('the primed exec start to be held', () => stalling.held === 1, 10_000);

    const started = performance.now();
    const result = await sandbox.exec('echo ran');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('ran\n');
    // Five seconds of waiting for the primed exec, then a normal exec: not the minutes of before.
    expect(performance.now() - started).toBeLessThan(20_000);
    // The abandoned start's connection was closed by droidworks, not left to the engine.
    await waitFor('the held connection to be closed', () => stalling.heldClosed === 1, 5_000);
  });

  it('closes a priming still in flight when the sandbox is released', async () => {
    const startsBefore = stalling.execStarts;
    const sandbox = await acquire('t-stall-release');
    // The sandbox's first priming goes through; the one its first command's end starts is held.
    await waitFor('the first priming', () => stalling.execStarts > startsBefore, 10_000);
    stalling.holdExecStarts(1);
    const heldBefore = stalling.held;
    const closedBefore = stalling.heldClosed;
    expect((await sandbox.exec('true')).exitCode).toBe(0);
    await waitFor('the next priming to be held', () => stalling.held === heldBefore + 1, 10_000);
    expect(stalling.heldClosed).toBe(closedBefore);

    await sandbox.release();
    await waitFor('the held connection to be closed', () => stalling.heldClosed === closedBefore + 1, 5_000);
    const left = await engine.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABELS.runId}=t-stall-release-${process.pid}`] }),
    });
    expect(left).toEqual([]);
  });

  it('fails an acquire whose container create the engine never answers, naming the call, within its timeout', async () => {
    stalling.holdCreates(1);
    const closedBefore = stalling.heldClosed;
    const started = performance.now();
    // The run's failure reads `Docker refused to create the sandbox container: <this cause>`.
    await expect(provider.acquire({ runId: `t-stall-create-${process.pid}` })).rejects.toMatchObject({
      cause: { message: 'the Docker engine did not create a container within 2 s' },
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    await waitFor('the held connection to be closed', () => stalling.heldClosed === closedBefore + 1, 5_000);
  });

  it('fails an acquire whose container start the engine never answers, and removes that container', async () => {
    stalling.holdContainerStarts(1);
    const started = performance.now();
    const failed = await provider.acquire({ runId: `t-stall-start-${process.pid}` }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    const cause = (failed?.cause as Error | undefined)?.message ?? '';
    expect(cause).toMatch(/^the Docker engine did not start container ([0-9a-f]{12}) within 2 s$/);
    expect(performance.now() - started).toBeLessThan(10_000);
    const id = /container ([0-9a-f]{12})/.exec(cause)![1]!;
    // The container that never started is removed (the removal itself reaches the engine).
    await expect(engine.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('gives up a removal the engine never answers, naming the container, within its timeout', async () => {
    const sandbox = await acquire('t-stall-remove');
    sandboxes.splice(sandboxes.indexOf(sandbox), 1);
    const id = sandbox.containerId!;
    stalling.holdRemovals(1);
    const closedBefore = stalling.heldClosed;
    const started = performance.now();
    await expect(sandbox.release()).rejects.toThrow(
      `the Docker engine did not remove container ${id.slice(0, 12)} within 2 s`,
    );
    expect(performance.now() - started).toBeLessThan(10_000);
    await waitFor('the held connection to be closed', () => stalling.heldClosed === closedBefore + 1, 5_000);
    // What release gave up on is left to the start-up sweep; here it is removed directly.
    expect((await engine.getContainer(id).inspect()).State.Running).toBe(true);
    await engine.getContainer(id).remove({ force: true });
  });
});
