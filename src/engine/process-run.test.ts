// The run processor without Docker: a transient GitHub 502 while the repository's setup is read
// (the GitHub simulator answers it for real) is retried without ending the run, and on the last
// attempt ends it once, through endRun. Real Redis, real ledger, real GitHub client.
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createContext } from '../cli/context.js';
import { startStack, type Stack } from '../cli/start-stack.js';
import type { RunJob } from '../queue/jobs.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { createLogger } from '../util/logger.js';
import { createRunProcessor, MAX_RUN_STARTS } from './process-run.js';
import { progressMarker } from './render-progress.js';
import type { RunServices } from './run-context.js';

let stack: Stack;
let redis: Redis;
let services: RunServices;

beforeAll(async () => {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  stack = await startStack({ logger, redisUrl: inject('redisUrl'), noWorker: true });
  stack.forge.webhooks.configure({ url: 'http://127.0.0.1:9/none', secret: 'unused' });
  redis = createRedisConnection(inject('redisUrl'), { role: 'worker' });
  services = createContext(stack.config, logger, redis);
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.close();
});

describe('createRunProcessor: the end of an attempt', () => {
  it.each([
    { attempt: { number: 1, max: 3 }, retried: true },
    { attempt: { number: 3, max: 3 }, retried: false },
  ])('a GitHub 502 during setup on attempt $attempt.number of $attempt.max', async ({ attempt, retried }) => {
    const issue = stack.forge.createIssue(stack.repo.full, { title: 't', body: 'b', as: 'alice' });
    const job: RunJob = {
      runId: `calc-${issue.number}-${attempt.number}`,
      workflow: 'resolve-issue',
      repo: { owner: stack.repo.owner, name: stack.repo.name },
      subject: { type: 'issue', number: issue.number },
      requestedBy: 'alice',
      queuedAt: Date.now(),
    };
    // Every read of the default branch answers 502, past the client's own retries.
    stack.forge.failNext('GET', /\/git\/ref\//, 502, {}, { times: 20 });
    const processor = createRunProcessor(services);
    const ran = processor(job, new AbortController().signal, attempt);
    if (retried) await expect(ran).rejects.toThrow(/502/);
    else await expect(ran).resolves.toBeUndefined();

    const events = (await services.ledger.events(job.runId)).map((e) => e.type);
    const state = await services.ledger.state(job.runId);
    const comment = stack.forge
      .comments(stack.repo.full, issue.number)
      .filter((c) => c.body.includes(progressMarker(job.runId)));
    expect(comment).toHaveLength(1);
    expect(comment[0]!.body).toContain('GitHub answered 502 to GET');
    const labels = stack.forge.issue(stack.repo.full, issue.number).labels;
    if (retried) {
      // Not ended: no Failed, no run.finished, no label; the comment says another attempt follows.
      expect(events).toEqual(['run.started', 'run.retrying']);
      expect(state.status).toBe('running');
      expect(comment[0]!.body).toMatch(/Attempt 1 of 3 failed; retrying/);
      expect(comment[0]!.body).not.toContain('Failed');
      expect(labels).not.toContain('droid:failed');
    } else {
      expect(events).toEqual(['run.started', 'run.finished']);
      expect(state.status).toBe('failed');
      expect(comment[0]!.body).toContain('Failed');
      expect(labels).toContain('droid:failed');
      // A worker that picks the job up again after the end does nothing.
      await processor(job, new AbortController().signal, attempt);
      expect((await services.ledger.events(job.runId)).map((e) => e.type)).toEqual([
        'run.started',
        'run.finished',
      ]);
    }
  });

  it(`ends a run its workers started ${MAX_RUN_STARTS} times without finishing, without running it`, async () => {
    const issue = stack.forge.createIssue(stack.repo.full, { title: 't', body: 'b', as: 'alice' });
    const job: RunJob = {
      runId: `calc-${issue.number}-dying`,
      workflow: 'resolve-issue',
      repo: { owner: stack.repo.owner, name: stack.repo.name },
      subject: { type: 'issue', number: issue.number },
      requestedBy: 'alice',
      queuedAt: Date.now(),
    };
    for (let i = 0; i < MAX_RUN_STARTS; i++)
      await services.ledger.append(job.runId, {
        type: 'run.started',
        attempt: 1,
        resumed: i > 0,
        workflow: job.workflow,
      });
    await createRunProcessor(services)(job, new AbortController().signal, { number: 1, max: 3 });
    expect((await services.ledger.state(job.runId)).status).toBe('failed');
    const events = (await services.ledger.events(job.runId)).map((e) => e.type);
    expect(events.filter((t) => t === 'run.started')).toHaveLength(MAX_RUN_STARTS);
    expect(events.at(-1)).toBe('run.finished');
    const comment = stack.forge
      .comments(stack.repo.full, issue.number)
      .find((c) => c.body.includes(progressMarker(job.runId)));
    expect(comment?.body).toMatch(/Failed[\s\S]*stopped 6 time\(s\) before finishing/);
    expect(stack.forge.issue(stack.repo.full, issue.number).labels).toContain('droid:failed');
  });
});
