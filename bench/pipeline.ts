/**
 * Pipeline benchmark: the whole product on loopback (forge, Redis, gateway, a worker in a child
 * process, real Docker sandboxes) with the fake model server at zero latency, playing the demo's
 * scripted turns.
 *
 * 1. Single runs, one after the other on one stack: time from webhook accepted to PR opened, split
 *    by step, medians; droidworks' own overhead = that total − model time − test time.
 * 2. 20 issues labelled at once with DROIDWORKS_CONCURRENCY=20 on a fresh stack: wall time until
 *    every PR is open, and the worker process's peak memory (sampled from /proc every 200 ms).
 * 3. Baseline, same run: the same burst with DROIDWORKS_CONCURRENCY=1.
 *
 * Targets: own overhead < 3 s per run; 20 concurrent runs under 1 GB of worker memory outside the
 * containers; no container left. Prints, never asserts.
 *
 * Run: npx tsx bench/pipeline.ts   (BENCH_RUNS=5, BENCH_BURST=20, BENCH_BASELINE=20 change the sizes)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { eventsOf, isEvent, RunLedger, type StoredRunEvent } from '../src/ledger/index.js';
import { intakeJobId } from '../src/queue/jobs.js';
import { createQueues, type Queues } from '../src/queue/queues.js';
import { startEmbeddedRedis } from '../src/queue/embedded-redis.js';
import { createRedisConnection } from '../src/queue/redis-connection.js';
import { startE2E, type E2E } from '../test/support/e2e-stack.js';
import type { PhaseTiming } from './pipeline-worker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const BASELINE = Number(process.env.BENCH_BASELINE ?? BURST);
const RUN_TIMEOUT_MS = 90_000;
const BURST_TIMEOUT_MS = 150_000;
const OVERHEAD_TARGET_MS = 3000;
const MEMORY_TARGET_MB = 1024;

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const exec = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
const ourRuns = new Set<string>();

// ---------- small helpers ----------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => pct(xs, 50);
function pct(xs: number[], p: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '—');
const s = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)} s` : '—');
const mb = (kb: number) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '—');

/** VmRSS / VmHWM of a process in kB (NaN once it is gone). */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN; // the process exited between two samples
  }
}

/** The pids below `pid` (git, the tsx/esbuild helper…), from /proc/<pid>/task/<tid>/children. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue; // thread ended
    }
    for (const c of children.split(' ').filter(Boolean)) out.push(Number(c), ...descendants(Number(c)));
  }
  return out;
}

/** Samples the worker's RSS (alone, and with its child processes) every 200 ms. */
function sampleMemory(pid: number) {
  const peak = { rss: 0, tree: 0 };
  const take = () => {
    const rss = procStatus(pid, 'VmRSS');
    if (!Number.isFinite(rss)) return;
    const tree = descendants(pid).reduce((sum, c) => sum + (procStatus(c, 'VmRSS') || 0), rss);
    peak.rss = Math.max(peak.rss, rss);
    peak.tree = Math.max(peak.tree, tree);
  };
  take();
  const timer = setInterval(take, 200);
  return {
    peak,
    stop() {
      clearInterval(timer);
      return { ...peak, hwm: procStatus(pid, 'VmHWM') };
    },
  };
}

/** Our runs' containers still present (other installations on this Docker engine are not counted). */
async function containersOf(runs: Set<string>): Promise<string[]> {
  const { stdout } = await exec('docker', [
    'ps',
    '-a',
    '--filter',
    'label=droidworks.managed=true',
    '--format',
    '{{.ID}} {{.Label "droidworks.run-id"}}',
  ]);
  return stdout
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([id, run]) => id && run && runs.has(run))
    .map(([id]) => id!);
}

/** Calls `each` for every complete line of a stream. */
function onLines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) each(line);
  });
}

// ---------- one stack with the worker in a child process ----------

interface Bench {
  readonly e2e: E2E;
  readonly redis: Redis;
  readonly ledger: RunLedger;
  readonly queues: Queues;
  readonly prefix: string;
  readonly worker: ChildProcess;
  readonly phases: PhaseTiming[];
  readonly workerErrors: string[];
}

async function withStack<T>(
  redisUrl: string,
  concurrency: number,
  body: (b: Bench) => Promise<T>,
): Promise<T> {
  const n = String(concurrency);
  const e2e = await startE2E(redisUrl, {
    noWorker: true,
    env: { DROIDWORKS_CONCURRENCY: n, DROIDWORKS_CONCURRENCY_PER_REPO: n, LOG_LEVEL: 'warn' },
  });
  const redis = createRedisConnection(redisUrl, { role: 'worker' });
  const prefix = e2e.stack.config.queuePrefix;
  const queues = createQueues(redis, prefix);
  const worker = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/pipeline-worker.ts')], {
    cwd: root,
    env: { ...process.env, ...e2e.stack.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const stopWorker = async () => {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    worker.kill('SIGTERM');
    const timer = setTimeout(() => worker.kill('SIGKILL'), 25_000);
    await exited;
    clearTimeout(timer);
  };
  const cleanup = async () => {
    await stopWorker();
    await queues.close();
    redis.disconnect();
    await e2e.close();
  };
  cleanups.push(cleanup);
  const phases: PhaseTiming[] = [];
  const workerErrors: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      onLines(worker.stdout!, (line) => {
        if (line === 'worker ready') resolve();
        else if (line.startsWith('{')) phases.push(JSON.parse(line) as PhaseTiming);
      });
      onLines(worker.stderr!, (line) => workerErrors.push(line));
      worker.once('exit', (code) => reject(new Error(`bench worker exited with ${code} before ready`)));
    });
    return await body({
      e2e,
      redis,
      ledger: new RunLedger(redis, prefix),
      queues,
      prefix,
      worker,
      phases,
      workerErrors,
    });
  } finally {
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await cleanup();
  }
}

// ---------- one issue: label it, find its run, read its ledger ----------

interface Tracked {
  readonly number: number;
  runId?: string;
  finished?: boolean;
}

function createIssues(b: Bench, count: number, tag: string): Tracked[] {
  const { forge, repo } = b.e2e.stack;
  return Array.from({ length: count }, (_, i) => ({
    number: forge.createIssue(repo.full, {
      title: `add() returns the wrong result (${tag} ${i + 1})`,
      body: '`add(2, 3)` returns `-1` instead of `5`, and `npm test` fails. Please fix `add` in calc.js.',
      as: 'alice',
    }).number,
  }));
}

/** Polls until every tracked issue's run has finished (`run.finished` in the ledger) or the deadline. */
async function waitFinished(b: Bench, issues: Tracked[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && issues.some((t) => !t.finished)) {
    for (const t of issues) {
      if (t.finished) continue;
      if (!t.runId) {
        const keys = await b.redis.keys(`${b.prefix}:run:${b.e2e.stack.repo.name}-${t.number}-*:events`);
        const key = keys[0];
        if (!key) continue;
        t.runId = key.slice(`${b.prefix}:run:`.length, -':events'.length);
        ourRuns.add(t.runId);
      }
      const events = await b.ledger.events(t.runId);
      t.finished = events.some((e) => e.type === 'run.finished');
    }
    await sleep(250);
  }
}

interface Breakdown {
  readonly number: number;
  readonly status: string;
  /** Run attempts (> 1: BullMQ retried the run, its figures include the failed attempt). */
  readonly attempts: number;
  readonly acceptedAt: number;
  readonly prAt: number;
  /** Named phases in ms, in display order. */
  readonly phases: Record<string, number>;
  /** run.queued → run.started (slightly < 0 when the run starts before intake logs run.queued). */
  readonly queueWait: number;
  readonly toPr: number;
  readonly model: number;
  readonly tools: number;
  readonly tests: number;
}

async function breakdown(b: Bench, t: Tracked): Promise<Breakdown> {
  const events: StoredRunEvent[] = t.runId ? await b.ledger.events(t.runId) : [];
  const first = (type: string, step?: string) =>
    events.find((e) => e.type === type && (step === undefined || ('step' in e && e.step === step)));
  const sum = (pick: (e: StoredRunEvent) => boolean, field: string) =>
    events.filter(pick).reduce((acc, e) => acc + (Number((e as Record<string, unknown>)[field]) || 0), 0);
  const stepMs = (step: string) => sum((e) => e.type === 'step.completed' && e.step === step, 'durationMs');
  const phase = (p: string) =>
    b.phases.filter((x) => x.runId === t.runId && x.phase === p).reduce((acc, x) => acc + x.ms, 0);

  // Webhook accepted: the gateway stamps `receivedAt` on the intake job just before answering 202.
  const delivery = b.e2e.stack.forge.webhooks.deliveries.find((d) => {
    if (d.event !== 'issues' || d.action !== 'labeled') return false;
    return (JSON.parse(d.body) as { issue?: { number?: number } }).issue?.number === t.number;
  });
  const intake = delivery ? await b.queues.intake.getJob(intakeJobId(delivery.guid)) : undefined;
  const queued = first('run.queued')?.at ?? NaN;
  const acceptedAt = intake?.data.receivedAt ?? queued;
  const started = first('run.started')?.at ?? NaN;
  const checkoutStarted = first('step.started', 'checkout')?.at ?? NaN;
  const prAt = first('pull_request')?.at ?? NaN;
  const finished = events.find((e) => isEvent(e, 'run.finished'));
  const reportDone = eventsOf(events, 'step.completed')
    .filter((e) => e.step === 'report')
    .at(-1)?.at;

  const steps = ['checkout', 'plan', 'approve', 'code', 'test', 'review', 'publish', 'report'];
  const stepsTotal = steps.reduce((acc, st) => acc + stepMs(st), 0);
  const lastStepAt = events.filter((e) => e.type === 'step.completed').at(-1)?.at ?? NaN;
  const model = sum((e) => e.type === 'agent.model', 'latencyMs');
  const tools = sum((e) => e.type === 'agent.tool', 'durationMs');
  const tests = sum((e) => e.type === 'tests', 'durationMs');
  const checkout = stepMs('checkout');
  const acquire = phase('sandbox.acquire');
  const prepare = phase('workspace.prepare');
  const push = phase('workspace.commitAndPush');
  return {
    number: t.number,
    status: String(finished?.status ?? 'not finished'),
    attempts: events.filter((e) => e.type === 'run.started').length,
    acceptedAt,
    prAt,
    queueWait: started - queued,
    toPr: prAt - acceptedAt,
    model,
    tools,
    tests,
    phases: {
      'webhook 202 → intake job picked up': (intake?.processedOn ?? NaN) - acceptedAt,
      'intake: authorize, enqueue → run.started': started - (intake?.processedOn ?? NaN),
      'run set-up (config, workflow)': checkoutStarted - started,
      'checkout: sandbox acquire': acquire,
      'checkout: worktree': prepare,
      'checkout: issue read, sweeps': checkout - acquire - prepare,
      'plan (planner call, comment)': stepMs('plan'),
      'approve (not required)': stepMs('approve'),
      'code: model calls': model,
      'code: tools (view, edit, npm test)': tools,
      'code: agent loop rest': stepMs('code') - model - tools,
      'test: tests in sandbox': tests,
      'test: rest': stepMs('test') - tests,
      'review (reviewer call)': stepMs('review'),
      'publish: commit + push': push,
      'publish: PR, check run, comment': stepMs('publish') - push,
      'engine between steps': lastStepAt - checkoutStarted - stepsTotal,
      'report (after PR)': stepMs('report'),
      'release + run.finished (after PR)': (finished?.at ?? NaN) - (reportDone ?? NaN),
    },
  };
}

// ---------- the three measurements ----------

async function singleRuns(redisUrl: string) {
  return withStack(redisUrl, 2, async (b) => {
    const rows: Breakdown[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [t] = createIssues(b, 1, 'single');
      b.e2e.stack.forge.addLabel(b.e2e.stack.repo.full, t!.number, 'droid', 'alice');
      await waitFinished(b, [t!], RUN_TIMEOUT_MS);
      rows.push(await breakdown(b, t!));
      process.stderr.write(`single run ${i + 1}/${RUNS}: ${rows.at(-1)!.status}\n`);
    }
    await sleep(500); // the last run's release is reported just after run.finished
    return { rows, errors: b.workerErrors };
  });
}

async function burst(redisUrl: string, count: number, concurrency: number) {
  return withStack(redisUrl, concurrency, async (b) => {
    const issues = createIssues(b, count, `burst c${concurrency}`);
    await sleep(1000); // the worker's start-up settles before the memory baseline
    const idleKb = procStatus(b.worker.pid!, 'VmRSS');
    const memory = sampleMemory(b.worker.pid!);
    const t0 = Date.now();
    for (const t of issues) b.e2e.stack.forge.addLabel(b.e2e.stack.repo.full, t.number, 'droid', 'alice');
    await waitFinished(b, issues, BURST_TIMEOUT_MS);
    const mem = memory.stop();
    const rows = await Promise.all(issues.map((t) => breakdown(b, t)));
    const prs = b.e2e.stack.forge.pulls(b.e2e.stack.repo.full).length;
    const lastPr = Math.max(...rows.map((r) => r.prAt).filter(Number.isFinite));
    const lastDone = Date.now();
    let left = await containersOf(new Set(issues.map((t) => t.runId!).filter(Boolean)));
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await sleep(500);
      left = await containersOf(new Set(issues.map((t) => t.runId!).filter(Boolean)));
    }
    process.stderr.write(`burst of ${count} at concurrency ${concurrency}: ${prs} PRs\n`);
    return {
      count,
      concurrency,
      prs,
      succeeded: rows.filter((r) => r.status === 'succeeded').length,
      wallToLastPr: lastPr - t0,
      wallToAllFinished: lastDone - t0,
      toPr: rows.map((r) => r.toPr),
      queueWait: rows.map((r) => r.queueWait),
      retried: rows.filter((r) => r.attempts > 1).length,
      rows,
      idleKb,
      mem,
      containersLeft: left.length,
      errors: b.workerErrors,
    };
  });
}

function printSingle(all: Breakdown[]) {
  const rows = clean(all);
  const names = Object.keys(rows[0]?.phases ?? {});
  const table: Record<string, string>[] = names.map((name) => ({
    phase: name,
    median: ms(median(rows.map((r) => r.phases[name] ?? NaN))),
    min: ms(Math.min(...rows.map((r) => r.phases[name] ?? NaN))),
    max: ms(Math.max(...rows.map((r) => r.phases[name] ?? NaN))),
  }));
  const succeeded = all.filter((r) => r.status === 'succeeded').length;
  const retried = all.filter((r) => r.attempts > 1).length;
  console.log(
    `\n1. single runs: ${all.length} issues one after the other on one stack, zero-latency fake model (${succeeded} succeeded, ${retried} retried; figures from the ${rows.length} that succeeded at the first attempt)`,
  );
  console.table(table);
  const overhead = rows.map((r) => r.toPr - r.model - r.tests);
  console.table([
    { figure: 'webhook accepted → PR opened', median: ms(median(rows.map((r) => r.toPr))), target: '' },
    {
      figure: 'model time (agent.model latencyMs)',
      median: ms(median(rows.map((r) => r.model))),
      target: '',
    },
    { figure: 'test time (tests durationMs)', median: ms(median(rows.map((r) => r.tests))), target: '' },
    {
      figure: "droidworks' own overhead = total − model − tests",
      median: ms(median(overhead)),
      target: `< ${OVERHEAD_TARGET_MS} ms: ${median(overhead) < OVERHEAD_TARGET_MS ? 'met' : 'NOT met'}`,
    },
    {
      figure: '… of which agent tool time (the coder runs npm test)',
      median: ms(median(rows.map((r) => r.tools))),
      target: '',
    },
    {
      figure: 'overhead without agent tool time',
      median: ms(median(rows.map((r, i) => overhead[i]! - r.tools))),
      target: '',
    },
  ]);
}

type BurstResult = Awaited<ReturnType<typeof burst>>;

/** Runs that succeeded at their first attempt: the only ones whose phases are comparable. */
const clean = (rows: Breakdown[]) => rows.filter((r) => r.status === 'succeeded' && r.attempts === 1);

function printBursts(runs: BurstResult[]) {
  console.log(
    '\n2./3. bursts: issues labelled at once, a fresh stack each, the worker in its own process (RSS sampled every 200 ms)',
  );
  const figures: Array<[string, (r: BurstResult) => string]> = [
    ['PRs open', (r) => `${r.prs}/${r.count}`],
    ['runs succeeded / retried', (r) => `${r.succeeded} / ${r.retried}`],
    ['wall time, first label → last PR', (r) => s(r.wallToLastPr)],
    ['wall time per run (wall / n)', (r) => s(r.wallToLastPr / r.count)],
    [
      'accepted → PR, p50 / max',
      (r) => `${s(median(r.toPr))} / ${r.prs === r.count ? s(Math.max(...r.toPr)) : 'no PR for some'}`,
    ],
    ['queue wait, p50 / max', (r) => `${s(median(r.queueWait))} / ${s(Math.max(...r.queueWait))}`],
    ['worker RSS before the labels', (r) => mb(r.idleKb)],
    ['worker peak RSS (sampled)', (r) => mb(r.mem.rss)],
    ['worker VmHWM at the end', (r) => mb(r.mem.hwm)],
    ['peak RSS of worker + its child processes', (r) => mb(r.mem.tree)],
    ['containers left', (r) => String(r.containersLeft)],
  ];
  console.table(
    figures.map(([figure, value]) =>
      Object.fromEntries([
        ['figure', figure],
        ...runs.map((r) => [`${r.count} issues, concurrency ${r.concurrency}`, value(r)]),
      ]),
    ),
  );
  const names = Object.keys(runs[0]?.rows[0]?.phases ?? {}).filter((n) => !n.startsWith('approve'));
  console.log(
    'where the time of one run goes in each burst (per phase, p50 / max over the runs that succeeded at the first attempt)',
  );
  console.table(
    names.map((name) =>
      Object.fromEntries([
        ['phase', name],
        ...runs.map((r) => {
          const xs = clean(r.rows).map((row) => row.phases[name] ?? NaN);
          return [`c${r.concurrency} p50 / max`, `${ms(median(xs))} / ${ms(Math.max(...xs))}`];
        }),
      ]),
    ),
  );
  const [concurrent, baseline] = runs;
  if (!concurrent || !baseline) return;
  const perRunBase = baseline.wallToLastPr / baseline.count;
  const perRunConc = concurrent.wallToLastPr / concurrent.count;
  const peakMb = Math.max(concurrent.mem.rss, concurrent.mem.hwm) / 1024;
  const left = concurrent.containersLeft + baseline.containersLeft;
  console.table([
    {
      figure: `throughput, concurrency ${concurrent.concurrency} vs ${baseline.concurrency} (wall time per run, ratio)`,
      value:
        clean(concurrent.rows).length === concurrent.count && clean(baseline.rows).length === baseline.count
          ? `${(perRunBase / perRunConc).toFixed(2)}×`
          : 'n/a: not every run succeeded at its first attempt',
      target: '',
    },
    {
      figure: `worker peak memory with ${concurrent.count} concurrent runs`,
      value: `${peakMb.toFixed(0)} MB`,
      target: `< ${MEMORY_TARGET_MB} MB: ${peakMb < MEMORY_TARGET_MB ? 'met' : 'NOT met'}`,
    },
    {
      figure: 'containers left after both bursts',
      value: String(left),
      target: `0: ${left === 0 ? 'met' : 'NOT met'}`,
    },
  ]);
}

async function main() {
  const redis = await startEmbeddedRedis();
  cleanups.push(() => redis.stop());
  const started = performance.now();
  const single = await singleRuns(redis.url);
  const concurrent = await burst(redis.url, BURST, BURST);
  const baseline = await burst(redis.url, BASELINE, 1);
  const { stdout: load } = await exec('cat', ['/proc/loadavg']);
  printSingle(single.rows);
  printBursts([concurrent, baseline]);
  const errors = [...single.errors, ...concurrent.errors, ...baseline.errors];
  console.log(`\nworker warnings/errors logged: ${errors.length}`);
  if (errors.length > 0) console.table(groupLogLines(errors));
  console.log(
    `load average at the end: ${load.split(' ').slice(0, 3).join(' ')} (2 cores); bench took ${s(performance.now() - started)}`,
  );
}

/** Worker log lines (pino JSON) counted by message and error text, run ids and ports blanked. */
function groupLogLines(lines: string[]): Array<{ count: number; level: string; msg: string; err: string }> {
  const groups = new Map<string, { count: number; level: string; msg: string; err: string }>();
  for (const line of lines) {
    let entry: { level?: unknown; msg?: unknown; err?: unknown } = { msg: line };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // not JSON (a stack trace line…): counted as its own text
    }
    const err = (typeof entry.err === 'string' ? entry.err : JSON.stringify(entry.err ?? ''))
      .replace(/calculator-\d+-[0-9a-f]+|issues\/\d+|:\d{4,5}\//g, '…')
      .slice(0, 110);
    const key = `${String(entry.level)}|${String(entry.msg)}|${err}`;
    const g = groups.get(key) ?? { count: 0, level: String(entry.level), msg: String(entry.msg), err };
    g.count += 1;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

async function cleanupAll() {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.error('pipeline bench: error while cleaning up, continuing', err);
    }
  }
  const left = await containersOf(ourRuns).catch(() => []);
  if (left.length > 0) {
    console.error(`removing ${left.length} container(s) our runs left behind`);
    await exec('docker', ['rm', '-f', ...left]).catch((err: unknown) => console.error(err));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void cleanupAll().finally(() => process.exit(130));
  });

try {
  await main();
} catch (err) {
  console.error('pipeline bench failed:', err);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
process.exit(process.exitCode ?? 0);
