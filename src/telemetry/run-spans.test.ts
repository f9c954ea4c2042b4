import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { loadConfig } from '../config/load-config.js';
import type { RunJob } from '../queue/jobs.js';
import { createProcessSandboxProvider } from '../sandbox/process-sandbox-provider.js';
import { createLogger } from '../util/logger.js';
import { runIdOf, traceRun, tracedSandboxes, tracedSteps } from './run-spans.js';
import { startTracing, type Tracing } from './start-tracing.js';

const logger = createLogger({ level: 'silent' });
const job: RunJob = {
  runId: 'acme-sample-7-ab12',
  workflow: 'resolve-issue',
  repo: { owner: 'acme', name: 'sample' },
  subject: { type: 'issue', number: 7 },
  requestedBy: 'alice',
  deliveryId: 'd-7',
  queuedAt: 0,
};

describe('run spans (real SDK, in-process OTLP/HTTP receiver, real processes)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a run, its steps and its sandbox commands share a trace and the run id; failures keep their error', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanup.push(() => receiver.close());
    const tracing: Tracing = startTracing(
      { url: `${receiver.url}/v1/traces`, headers: {}, serviceName: 'w' },
      logger,
    )!;
    let flushed = false;
    cleanup.push(async () => void (flushed || (await tracing.shutdown())));
    const workRoot = await mkdtemp(join(tmpdir(), 'dw-spans-'));
    cleanup.push(() => rm(workRoot, { recursive: true, force: true }));
    const secret = 'sk-secret-value-0123456789';
    const sandboxes = tracedSandboxes(
      createProcessSandboxProvider(loadConfig({ DROIDWORKS_SANDBOX: 'process' }).sandbox, {
        logger,
        workRoot,
      }),
      tracing.tracer,
      [secret],
    );
    cleanup.push(() => sandboxes.close());

    const steps = tracedSteps<{ runId: string }>(
      {
        test: {
          run: async () => {
            const sandbox = await sandboxes.acquire({ runId: job.runId });
            try {
              expect(runIdOf()).toBe(job.runId);
              expect((await sandbox.exec(`echo ${secret}; exit 3`)).exitCode).toBe(3);
            } finally {
              await sandbox.release();
            }
          },
        },
        publish: {
          run: async () => {
            throw new Error(`push refused for ${secret}`);
          },
        },
      },
      tracing.tracer,
      [secret],
    );
    const ctx = { runId: job.runId };
    const result = await traceRun(
      tracing.tracer,
      job,
      1,
      async () => {
        await steps.test!.run(ctx, { name: 'test', options: {} });
        await expect(steps.publish!.run(ctx, { name: 'publish', options: {} })).rejects.toThrow(
          /push refused/,
        );
        return 'ended';
      },
      // The ledger is unreadable: the span says so, the run ends as it would have.
      async () => {
        throw new Error('redis down');
      },
    );
    expect(result).toBe('ended');
    await expect(traceRun(tracing.tracer, job, 2, () => Promise.reject(new Error('killed')))).rejects.toThrow(
      'killed',
    );
    flushed = true;
    await tracing.shutdown();

    const spans = receiver.spans;
    const run = spans.find(
      (s) => s.name === 'run resolve-issue' && s.attributes['droidworks.run.attempt'] === 1,
    )!;
    expect(run.attributes).toMatchObject({
      'droidworks.run.id': job.runId,
      'github.delivery': 'd-7',
      'droidworks.repository': 'acme/sample',
      'droidworks.run.status_error': 'redis down',
    });
    const inRun = spans.filter((s) => s.traceId === run.traceId && s !== run);
    expect(inRun.map((s) => s.name).sort()).toEqual([
      'sandbox acquire',
      'sandbox command',
      'step publish',
      'step test',
    ]);
    expect(inRun.every((s) => s.attributes['droidworks.run.id'] === job.runId)).toBe(true);
    const command = inRun.find((s) => s.name === 'sandbox command')!;
    expect(command.attributes['process.exit.code']).toBe(3);
    expect(command.attributes['droidworks.command']).toBe('echo [redacted]; exit 3');
    expect(command.parentSpanId).toBe(inRun.find((s) => s.name === 'step test')!.spanId);
    expect(JSON.stringify(spans)).not.toContain(secret);
    // A second attempt is a trace of its own.
    const second = spans.find((s) => s.attributes['droidworks.run.attempt'] === 2)!;
    expect(second.traceId).not.toBe(run.traceId);
  });
});
