// handleIntake without Docker: the GitHub simulator (real REST over HTTP), a real Redis with real
// BullMQ queues, the real ledger and repository loader. No worker runs unless a test starts one.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createContext } from '../cli/context.js';
import { startStack, type Stack } from '../cli/start-stack.js';
import { createQueues, type Queues } from '../queue/queues.js';
import type { IntakeJob } from '../queue/jobs.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { createRunQueue, startRunWorker, type RunQueue } from '../queue/run-queue.js';
import { createLogger } from '../util/logger.js';
import { handleIntake, type IntakeDeps } from './handle-intake.js';
import type { RunServices } from './run-context.js';

const redisUrl = inject('redisUrl');
const BOT = 'droidworks[bot]';

let stack: Stack;
let redis: Redis;
let services: RunServices;
let queues: Queues;
let runs: RunQueue;
let deps: IntakeDeps;

beforeAll(async () => {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  stack = await startStack({ logger, redisUrl, noWorker: true });
  // No webhooks: the tests hand intake jobs to handleIntake themselves.
  stack.forge.webhooks.configure({ url: 'http://127.0.0.1:9/none', secret: 'unused' });
  redis = createRedisConnection(redisUrl, { role: 'worker' });
  services = createContext(stack.config, logger, redis);
  queues = createQueues(redis, stack.config.queuePrefix);
  runs = createRunQueue(queues, redis);
  deps = {
    github: services.github,
    runs,
    ledger: services.ledger,
    commandPrefix: '/droid',
    triggerLabel: 'droid',
    repoSetup: (owner, repo) => services.repoSetup(owner, repo),
    logger,
  };
}, 60_000);

afterAll(async () => {
  await queues?.runs.obliterate({ force: true });
  await queues?.close();
  redis?.disconnect();
  await stack?.close();
});

function newIssue(title = 'add() is wrong'): number {
  return stack.forge.createIssue(stack.repo.full, { title, body: 'fix add', as: 'alice' }).number;
}

function job(kind: IntakeJob['kind'], number: number, extra: Partial<IntakeJob> = {}): IntakeJob {
  return {
    kind,
    deliveryId: randomUUID(),
    event: kind === 'label' ? 'issues' : 'issue_comment',
    action: kind === 'label' ? 'labeled' : 'created',
    repo: { owner: stack.repo.owner, name: stack.repo.name },
    sender: { login: 'alice' },
    subject: { type: 'issue', number, title: 'add() is wrong' },
    receivedAt: Date.now(),
    ...extra,
  };
}

const botComments = (n: number) =>
  stack.forge.comments(stack.repo.full, n).filter((c) => c.user.login === BOT);

describe('handleIntake (no Docker)', () => {
  it.each<{
    name: string;
    make: (n: number) => IntakeJob;
    outcomes: string[];
    comments: number;
    contains?: RegExp;
  }>([
    {
      name: 'a writer labels: one run queued, one progress comment',
      make: (n) => job('label', n),
      outcomes: ['started'],
      comments: 1,
      contains: /droidworks:progress run=.*Queued/s,
    },
    {
      name: 'a reader labels: one refusal',
      make: (n) => job('label', n, { sender: { login: 'rita' } }),
      outcomes: ['refused'],
      comments: 1,
      contains: /only acts on labels from people with write access/,
    },
    {
      name: 'seven commands in one comment: five answered, one reply about the rest',
      make: (n) =>
        job('command', n, { commands: Array.from({ length: 5 }, () => '/droid help'), commandsIgnored: 2 }),
      outcomes: ['replied', 'replied', 'replied', 'replied', 'replied', 'replied'],
      comments: 6,
      contains: /at most 5 commands per comment; the other 2 were ignored/,
    },
    {
      name: 'an old gateway sends 1000 commands: still five, one reply',
      make: (n) => job('command', n, { commands: Array.from({ length: 1000 }, () => '/droid help') }),
      outcomes: ['replied', 'replied', 'replied', 'replied', 'replied', 'replied'],
      comments: 6,
      contains: /the other 995 were ignored/,
    },
    {
      name: 'an unknown verb is answered once',
      make: (n) => job('command', n, { commands: ['/droid dance'] }),
      outcomes: ['replied'],
      comments: 1,
      contains: /Unknown command `dance`/,
    },
  ])('$name; a retried intake job adds nothing', async ({ make, outcomes, comments, contains }) => {
    const n = newIssue();
    const intake = make(n);
    const first = await handleIntake(intake, deps);
    expect(first.map((o) => o.action)).toEqual(outcomes);
    expect(botComments(n)).toHaveLength(comments);
    if (contains)
      expect(
        botComments(n)
          .map((c) => c.body)
          .join('\n'),
      ).toMatch(contains);
    // BullMQ retries intake jobs up to 5 times: the same job again leaves the same comments.
    const again = await handleIntake(intake, deps);
    expect(again.map((o) => o.action)).toEqual(outcomes);
    expect(botComments(n)).toHaveLength(comments);
  });

  it('writes the ledger state `queued` and the progress comment before the job can run', async () => {
    const n = newIssue();
    const [outcome] = await handleIntake(job('label', n), deps);
    if (outcome?.action !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
    expect(await services.ledger.state(outcome.runId)).toMatchObject({
      status: 'queued',
      workflow: 'resolve-issue',
    });
    expect((await services.ledger.events(outcome.runId)).map((e) => e.type)).toEqual(['run.queued']);
    expect((await runs.current(stack.repo, { number: n }))?.runId).toBe(outcome.runId);
    // A second label (another delivery) while it waits: told so, nothing queued.
    const [second] = await handleIntake(job('label', n), deps);
    expect(second).toEqual({ action: 'already_running', runId: outcome.runId });
    expect(botComments(n)).toHaveLength(2);
  });

  it('ends a waiting run cancelled through endRun: final state, run.finished, comment', async () => {
    const n = newIssue();
    const [outcome] = await handleIntake(job('label', n), deps);
    if (outcome?.action !== 'started') throw new Error('not started');
    const [cancelled] = await handleIntake(job('command', n, { commands: ['/droid cancel'] }), deps);
    expect(cancelled).toEqual({ action: 'cancelled', runId: outcome.runId });
    expect((await services.ledger.state(outcome.runId)).status).toBe('cancelled');
    const events = (await services.ledger.events(outcome.runId)).map((e) => e.type);
    expect(events).toEqual(['run.queued', 'run.cancel_requested', 'run.finished']);
    const progress = botComments(n).filter((c) => c.body.includes('droidworks:progress'));
    expect(progress).toHaveLength(1);
    expect(progress[0]!.body).toMatch(/Cancelled.*Cancelled by @alice before it started/s);
  });

  it('records who and what started a run in its state (the dashboard list shows them)', async () => {
    const n = newIssue();
    const [outcome] = await handleIntake(job('label', n), deps);
    if (outcome?.action !== 'started') throw new Error('not started');
    const state = await services.ledger.state(outcome.runId);
    expect(state).toMatchObject({ by: 'alice', trigger: 'label', subjectType: 'issue' });
    expect(Number(state.queuedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('takes a command pressed by the dashboard admin without a permission look-up; never for others', async () => {
    const n = newIssue();
    const [outcome] = await handleIntake(job('label', n), deps);
    if (outcome?.action !== 'started') throw new Error('not started');
    // `nobody` has no access at all: only the admin flag the gateway sets lets this through.
    const pressed = job('command', n, {
      sender: { login: 'nobody' },
      commands: ['/droid cancel'],
      event: 'dashboard',
    });
    expect(await handleIntake(pressed, deps)).toEqual([{ action: 'refused', reason: 'permission none' }]);
    const admin = { ...pressed, deliveryId: randomUUID(), dashboardAdmin: true as const };
    expect(await handleIntake(admin, deps)).toEqual([{ action: 'cancelled', runId: outcome.runId }]);
    expect((await services.ledger.state(outcome.runId)).status).toBe('cancelled');
  });

  it('refuses, with a comment, a repository override that names a step droidworks does not have', async () => {
    const repo = stack.repo.full;
    const own = [
      'name: resolve-issue',
      'description: ours',
      'trigger: { label: $triggerLabel }',
      'on: issue',
      'permissions: [comment, push, open_pr]',
      'steps: [{ step: checkout }, { step: compile }, { step: publish }]',
    ].join('\n');
    await stack.forge.commit(repo, {
      files: { '.droidworks/workflows/ours.yml': own },
      message: 'own workflow',
    });
    try {
      const n = newIssue();
      const outcomes = await handleIntake(job('label', n), deps);
      expect(outcomes).toEqual([
        { action: 'refused', reason: 'invalid workflow .droidworks/workflows/ours.yml' },
      ]);
      const text = botComments(n)
        .map((c) => c.body)
        .join('\n');
      expect(text).toMatch(/steps\[1\]\.step: must be one of: checkout, plan/);
      expect(text).toMatch(/did not start `resolve-issue`/);
      expect(await runs.current(stack.repo, { number: n })).toBeUndefined();
    } finally {
      // (The simulator cannot delete a file yet: the file becomes an unrelated, valid workflow.)
      await stack.forge.commit(repo, {
        files: {
          '.droidworks/workflows/ours.yml':
            'description: nightly\ntrigger: { schedule: "0 3 * * *" }\nsteps: [{ step: plan }]',
        },
        message: 'replace own workflow',
      });
    }
  });
});

describe('the acknowledgement races a fast worker (finding 6)', () => {
  it('never makes a second progress comment and never overwrites `running`', async () => {
    const connection = createRedisConnection(redisUrl, { role: 'worker' });
    const subscriber = createRedisConnection(redisUrl, { role: 'worker' });
    const seen: Array<{ runId: string; created: boolean; stateBefore: string | undefined }> = [];
    // The fastest possible worker: its first act is the run's first progress write.
    const worker = await startRunWorker({
      connection,
      subscriber,
      prefix: stack.config.queuePrefix,
      concurrency: 8,
      processor: async (data) => {
        const stateBefore = (await services.ledger.state(data.runId)).status;
        await services.ledger.setState(data.runId, { status: 'running' });
        const { created } = await services.github.upsertComment(
          { owner: data.repo.owner, repo: data.repo.name, issueNumber: data.subject.number },
          `<!-- droidworks:progress run=${data.runId} -->`,
          `<!-- droidworks:progress run=${data.runId} -->\nWorking`,
        );
        seen.push({ runId: data.runId, created, stateBefore });
      },
    });
    try {
      const issues = Array.from({ length: 6 }, () => newIssue());
      const outcomes = await Promise.all(issues.map((n) => handleIntake(job('label', n), deps)));
      const runIds = outcomes.map((o) => (o[0]?.action === 'started' ? o[0].runId : ''));
      const deadline = Date.now() + 20_000;
      const done = () => seen.filter((s) => runIds.includes(s.runId)).length;
      while (done() < issues.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const mine = seen.filter((s) => runIds.includes(s.runId));
      expect(mine).toHaveLength(issues.length);
      for (const s of mine) {
        expect(s.created).toBe(false);
        expect(s.stateBefore).toBe('queued');
      }
      for (const [i, n] of issues.entries()) {
        const progress = botComments(n).filter((c) => c.body.includes('droidworks:progress'));
        expect(progress).toHaveLength(1);
        expect((await services.ledger.state(runIds[i]!)).status).toBe('running');
      }
    } finally {
      await worker.close();
      connection.disconnect();
      subscriber.disconnect();
    }
  });
});
