/**
 * `bench/deploy`: the deploy stage's own latency on loopback (forge, embedded Redis, gateway and
 * worker in this process, a signed deploy receiver). Two scenarios, alternated five times each:
 *  - merge: checks already green → merge webhook delivered → deployer called, split by step;
 *  - check_run: gate waiting on a pending check → `check_run.completed` delivered → deployer called.
 * Prints medians and ranges next to the target (< 1 s of droidworks' own time each). Never asserts.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { startDeployTarget } from '../src/demo/deploy-target.js';
import { startStack, type Stack } from '../src/cli/start-stack.js';
import { createLogger } from '../src/util/logger.js';

const ROUNDS = 5;
const secret = randomBytes(16).toString('hex');
const target = await startDeployTarget(secret);
const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const stack: Stack = await startStack({
  logger,
  env: {
    DROIDWORKS_SANDBOX: 'process',
    DROIDWORKS_SECRET_DEPLOY_HOOK: secret,
    DROIDWORKS_CONCURRENCY_PER_REPO: '4',
  },
});
const repo = stack.repo.full;
await stack.forge.commit(repo, {
  message: 'deploy config',
  files: {
    '.droidworks.yml': `deploy:
  requireChecks: [ci]
  environments:
    - name: staging
      deployer: { webhook: { url: "${target.hookUrl}", secret: DEPLOY_HOOK } }
`,
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('bench: timed out');
    await sleep(2);
  }
}
let n = 0;
async function pullRequest(): Promise<number> {
  const branch = `bench-${++n}`;
  await stack.forge.commit(repo, {
    branch,
    files: { [`${branch}.txt`]: branch },
    message: branch,
    as: 'alice',
  });
  return (await stack.forge.createPullRequest(repo, { title: branch, head: branch, as: 'alice' })).number;
}
const hookFor = (sha: string) => () => target.calls.find((c) => c.body.sha === sha);
const runIdOn = (number: number) => () =>
  /droidworks:progress run=(\S+) -->/.exec(
    stack.forge.comments(repo, number).find((c) => c.body.includes('droidworks:progress'))?.body ?? '',
  )?.[1];
const green = (sha: string) =>
  stack.forge.addCheckRun(repo, sha, {
    name: 'ci',
    status: 'completed',
    conclusion: 'success',
    as: 'droidworks[bot]',
  });
async function finished(runId: string) {
  await until(async () =>
    (await stack.services!.ledger.events(runId)).some((e) => e.type === 'run.finished') ? true : undefined,
  );
}

async function mergeScenario() {
  const number = await pullRequest();
  stack.forge.webhooks.pause(); // the green check lands before droidworks hears of the merge
  const sha = await stack.forge.mergePullRequest(repo, number, 'alice');
  green(sha);
  const t0 = Date.now();
  stack.forge.webhooks.resume();
  const call = await until(hookFor(sha));
  const runId = (await until(runIdOn(number)))!;
  const events = await stack.services!.ledger.events(runId);
  const at = (type: string, step?: string) =>
    events.find((e) => e.type === type && (!step || ('step' in e && e.step === step)))?.at ?? NaN;
  await finished(runId);
  return {
    total: call.receivedAt - t0,
    intake: Math.min(at('run.queued'), at('run.started')) - t0,
    start: at('step.started', 'gate') - Math.min(at('run.queued'), at('run.started')),
    gate: at('step.completed', 'gate') - at('step.started', 'gate'),
    deploy: call.receivedAt - at('step.started', 'deploy'),
  };
}

async function checkRunScenario() {
  const number = await pullRequest();
  const sha = await stack.forge.mergePullRequest(repo, number, 'alice');
  const runId = (await until(runIdOn(number)))!;
  await until(async () =>
    (await stack.services!.ledger.events(runId)).some((e) => e.type === 'deploy.gate' && e.verdict === 'wait')
      ? true
      : undefined,
  );
  const t0 = Date.now();
  green(sha);
  const call = await until(hookFor(sha));
  await finished(runId);
  return { total: call.receivedAt - t0 };
}

const merge: Array<Awaited<ReturnType<typeof mergeScenario>>> = [];
const check: number[] = [];
await mergeScenario(); // warm-up (module loading, first connections)
for (let i = 0; i < ROUNDS; i++) {
  merge.push(await mergeScenario());
  check.push((await checkRunScenario()).total);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)} ms`;
const row = (label: string, xs: number[]) =>
  console.log(`${label.padEnd(50)} median ${median(xs)} ms (range ${range(xs)})`);
console.log(
  `deploy stage on loopback, ${ROUNDS} alternated rounds each (target: < 1000 ms of droidworks' own time)`,
);
row(
  'merge webhook → deployer called (total)',
  merge.map((m) => m.total),
);
row(
  '  webhook resumed → run enqueued (gateway, intake)',
  merge.map((m) => m.intake),
);
row(
  '  enqueued → gate step started (worker, config)',
  merge.map((m) => m.start),
);
row(
  '  gate step (checks read, gate open)',
  merge.map((m) => m.gate),
);
row(
  '  deploy step start → deployer called',
  merge.map((m) => m.deploy),
);
row('check_run webhook → deployer called (total)', check);
await stack.close();
await target.close();
