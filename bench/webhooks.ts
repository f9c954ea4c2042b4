/**
 * Webhook intake benchmark: signed `issue_comment.created` deliveries (`/droid status`, each with a
 * unique X-GitHub-Delivery) on loopback to (a) the real droidworks gateway and (b) a minimal
 * Probot 14 app whose handler enqueues the same BullMQ job with `queue.add`. Each target runs in a
 * child process of its own (bench/webhooks-target.ts) with a private redis-server. The targets
 * alternate (droidworks, Probot, droidworks, Probot, …; `BENCH_PAIRS`, default 3) in one invocation,
 * with the load average printed before each pair, so noise from other work shows in the spread; the
 * summary gives the median ratio and its range. First, one delivery's cost is broken down by stage
 * in this process (bench/webhooks-cost.ts), and each phase reports the target's event-loop delay.
 *
 * Phases per target: a short warm-up; saturation (64 connections, 8 s; the raw socket generator of
 * bench/webhooks-load.ts, or autocannon with `BENCH_LOAD=autocannon`, or both with `BENCH_LOAD=both`) → accepted/s;
 * a paced open-loop 1,000 deliveries/s for 8 s → p50/p99 from request to 2xx (node's `http.request`;
 * raw keep-alive sockets with `BENCH_PACED=raw`, both with `BENCH_PACED=both`). After each phase the
 * waiting jobs in Redis are compared with the 2xx answers: lost (2xx but no job) and duplicated
 * (two jobs for one delivery, or a job for a delivery never sent).
 *
 * Targets (issues 2 and 11): at least 2x Probot's saturated throughput; p99 < 10 ms at 1,000/s; zero lost
 * or duplicated jobs. Prints, never asserts.
 *
 * Run: npm run bench -- webhooks (or npx tsx bench/webhooks.ts)
 * Profile: BENCH_CPU_PROF=/tmp/prof npx tsx bench/webhooks.ts (one .cpuprofile per target)
 * One target only: BENCH_TARGETS=droidworks npx tsx bench/webhooks.ts
 * With the floor (plain node:http + HMAC + JSON.parse, no queue): BENCH_TARGETS=droidworks,probot,floor
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deliveryCost } from './webhooks-cost.js';
import { pacedRaw, saturateRaw, signedBodies, type SignedBody } from './webhooks-load.js';
import {
  BENCH_SECRET,
  DEFAULT_TARGETS,
  TARGETS,
  WEBHOOK_PATH,
  type LoopDelay,
  type LoopDelayRequest,
  type Target,
  type TargetReady,
} from './webhooks-target.js';

const SATURATION = { connections: 64, seconds: 8 };
const WARMUP = { connections: 16, seconds: 2 };
const PACED = { rate: 1000, seconds: 8 };
/** Distinct signed bodies (distinct comment ids); delivery ids are unique per request. */
const BODY_RING = 1024;
/** Pause between saturation and the paced phase. */
const SETTLE_MS = 2000;
/** The whole run stops by itself after this long, whatever happens. */
const WATCHDOG_MS = 600_000;
/** droidworks, Probot, droidworks, Probot, …: noise from other work shows in the spread. */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
/**
 * The saturation load generator: `raw` (default, bench/webhooks-load.ts: one net.Socket per
 * connection, pre-encoded requests), `autocannon`, or `both` (raw, then autocannon, on the same
 * target, both reported).
 */
const LOAD = (process.env.BENCH_LOAD ?? 'raw') as 'raw' | 'autocannon' | 'both';
if (!['raw', 'autocannon', 'both'].includes(LOAD))
  throw new Error(`BENCH_LOAD=${LOAD}: raw, autocannon or both`);
/**
 * The paced phase's client: `http` (default: node's `http.request` with a keep-alive Agent, as in
 * every round of bench/README.md), `raw` ({@link pacedRaw}: raw keep-alive sockets, a tenth of the
 * client's CPU), or `both` (raw, then http, on the same target, both reported). The seventh round
 * ran both and found the same p99 with either: the client is not where the tail comes from.
 */
const PACED_CLIENT = (process.env.BENCH_PACED ?? 'http') as 'raw' | 'http' | 'both';
if (!['raw', 'http', 'both'].includes(PACED_CLIENT))
  throw new Error(`BENCH_PACED=${PACED_CLIENT}: raw, http or both`);

// autocannon ships no types; this is the part of its programmatic API used here.
interface CannonRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
}
type CannonContext = { i?: number };
interface CannonOptions {
  url: string;
  method: 'POST';
  connections: number;
  duration: number;
  timeout: number;
  requests: Array<{
    setupRequest(req: CannonRequest, context: CannonContext): CannonRequest;
    onResponse(status: number, body: string, context: CannonContext): void;
  }>;
}
interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (
  opts: CannonOptions,
  done: (err: Error | null, result: CannonResult) => void,
) => EventEmitter;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Headers GitHub sends, for request `i` of a phase. */
function headersFor(deliveryId: string, signature: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/bench',
    'x-github-event': 'issue_comment',
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': signature,
  };
}

interface PhaseOutcome {
  /** Requests written. */
  readonly sent: number;
  /** Delivery indexes answered 2xx. */
  readonly ok: Uint8Array;
  readonly accepted: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly seconds: number;
  /** Request-to-2xx latencies in ms (paced phase only). */
  readonly latencies?: number[];
  /** When each of those requests was sent, in ms since the phase began (same order). */
  readonly sentAt?: number[];
}

const RUN_TAG = randomBytes(3).toString('hex');
const deliveryId = (phase: string, i: number): string => `${RUN_TAG}-${phase}-${i}`;

/** Closed-loop saturation with the generator named: every request a new delivery id. */
function saturateWith(
  generator: 'raw' | 'autocannon',
  url: string,
  phase: string,
  bodies: readonly SignedBody[],
  load: { connections: number; seconds: number },
): Promise<PhaseOutcome> {
  return generator === 'raw'
    ? saturateRaw(url, WEBHOOK_PATH, bodies, (i) => deliveryId(phase, i), load)
    : saturate(url, phase, bodies, load);
}

/** The paced phase with the client named. */
function pacedWith(
  client: 'raw' | 'http',
  url: string,
  phase: string,
  bodies: readonly SignedBody[],
  load: { rate: number; seconds: number },
): Promise<PhaseOutcome> {
  return client === 'raw'
    ? pacedRaw(url, WEBHOOK_PATH, bodies, (i) => deliveryId(phase, i), load)
    : paced(url, phase, bodies, load);
}

/** Closed-loop saturation with autocannon: every request a new delivery id. */
function saturate(
  url: string,
  phase: string,
  bodies: readonly SignedBody[],
  load: { connections: number; seconds: number },
): Promise<PhaseOutcome> {
  const ok = new Uint8Array(4_000_000);
  let next = 0;
  let accepted = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}${WEBHOOK_PATH}`,
        method: 'POST',
        connections: load.connections,
        duration: load.seconds,
        timeout: 10,
        requests: [
          {
            setupRequest(req, context) {
              const i = next++;
              const signed = bodies[i % bodies.length]!;
              context.i = i;
              req.headers = headersFor(deliveryId(phase, i), signed.signature);
              req.body = signed.body;
              return req;
            },
            onResponse(status, _body, context) {
              // One request in flight per connection, so the context names the delivery answered.
              if (status >= 200 && status < 300 && context.i !== undefined && ok[context.i] === 0) {
                ok[context.i] = 1;
                accepted++;
              }
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          sent: next,
          ok,
          accepted,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          seconds: result.duration,
        });
      },
    );
  });
}

/**
 * Open-loop fixed rate: request `i` leaves at `i / rate` s whatever the earlier ones are doing, so
 * a slow answer cannot hold back the next request (autocannon's `overallRate` sends each second's
 * budget as a burst and then waits, which measures a burst, not a steady rate).
 */
function paced(
  url: string,
  phase: string,
  bodies: readonly SignedBody[],
  load: { rate: number; seconds: number },
): Promise<PhaseOutcome> {
  const target = new URL(`${url}${WEBHOOK_PATH}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = load.rate * load.seconds;
  const ok = new Uint8Array(total);
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let sent = 0;
  let answered = 0;
  let accepted = 0;
  let non2xx = 0;
  let errors = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      agent.destroy();
      resolve({
        sent,
        ok,
        accepted,
        non2xx,
        errors: errors + (sent - answered),
        seconds: (performance.now() - started) / 1000,
        latencies,
        sentAt,
      });
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      answered++;
      if (sent === total && answered === total) finish();
    };
    const send = (i: number): void => {
      const signed = bodies[i % bodies.length]!;
      const headers = headersFor(deliveryId(phase, i), signed.signature);
      headers['content-length'] = String(signed.body.length);
      const t0 = performance.now();
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers },
        (res) => {
          res.resume();
          res.once('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              latencies.push(performance.now() - t0);
              sentAt.push(t0 - started);
              ok[i] = 1;
              accepted++;
            } else non2xx++;
            settle();
          });
        },
      );
      req.once('error', () => {
        errors++;
        settle();
      });
      req.end(signed.body);
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * load.rate) / 1000));
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
      // Answers still missing 5 s after the last request are counted as errors.
      else drainTimer = setTimeout(finish, 5000);
    };
    tick();
  });
}

interface JobCheck {
  readonly jobs: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Jobs stored for deliveries that got no 2xx (in flight when the load stopped, or timed out). */
  readonly unacknowledged: number;
}

/** Waits until the wait list stops growing, then compares its job ids with the 2xx answers. */
async function checkJobs(
  redis: Redis,
  waitKey: string,
  phase: string,
  outcome: PhaseOutcome,
): Promise<JobCheck> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const len = await redis.llen(waitKey);
    if (len === last) break;
    last = len;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ids = await redis.lrange(waitKey, 0, -1);
  const marker = `delivery-${RUN_TAG}-${phase}-`;
  const seen = new Uint8Array(outcome.ok.length);
  let jobs = 0;
  let duplicated = 0;
  let unacknowledged = 0;
  for (const id of ids) {
    if (!id.startsWith(marker)) continue;
    jobs++;
    const i = Number(id.slice(marker.length));
    if (!Number.isInteger(i) || i < 0 || i >= outcome.sent || seen[i] === 1) {
      duplicated++;
      continue;
    }
    seen[i] = 1;
    if (outcome.ok[i] !== 1) unacknowledged++;
  }
  let lost = 0;
  for (let i = 0; i < outcome.sent; i++) if (outcome.ok[i] === 1 && seen[i] !== 1) lost++;
  return { jobs, lost, duplicated, unacknowledged };
}

/** CPU seconds the redis-server has used since it started (`INFO cpu`), in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Scripts Redis has run since it started (`INFO commandstats`): the intake batches. */
async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

interface RunningTarget {
  readonly ready: TargetReady;
  /** Starts (`reset`) or reads (`read`) the target's event-loop delay histogram. */
  loopDelay(op: 'reset' | 'read'): Promise<LoopDelay | undefined>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** Starts a target in a child process and waits until it listens. */
function startTarget(target: Target): Promise<RunningTarget> {
  const profDir = process.env.BENCH_CPU_PROF;
  const args = [
    ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    '--import',
    'tsx',
    fileURLToPath(new URL('./webhooks-target.ts', import.meta.url)),
    target,
  ];
  // stdout (the targets' JSON logs) goes to /dev/null; errors reach our stderr.
  const child = spawn(process.execPath, args, {
    cwd: dirname(BENCH_DIR),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${target} did not start within 30 s`));
    }, 30_000);
    const loopDelay = (op: 'reset' | 'read'): Promise<LoopDelay | undefined> => {
      const request: LoopDelayRequest = { type: 'loop-delay', op };
      child.send(request);
      if (op === 'reset') return Promise.resolve(undefined);
      return new Promise((done) => {
        const onMessage = (m: LoopDelay): void => {
          if (m.type !== 'loop-delay') return;
          child.off('message', onMessage);
          done(m);
        };
        child.on('message', onMessage);
      });
    };
    child.once('message', (message: TargetReady) => {
      clearTimeout(timer);
      resolve({ ready: message, loopDelay, stop });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${target} exited before listening (code ${code}, signal ${signal})`));
    });
  });
}

/** One saturation phase: its outcome, the jobs counted, the target's loop and CPU, Redis' CPU. */
interface Saturation {
  readonly outcome: PhaseOutcome;
  readonly jobs: JobCheck;
  readonly loop: LoopDelay | undefined;
  readonly redisCpuMs: number;
  /** CPU µs the load generator (this process) spent per request it sent. */
  readonly generatorUsPerRequest: number;
}

interface TargetRow {
  readonly target: Target;
  readonly pair: number;
  readonly saturatedLoop?: LoopDelay;
  readonly fixedLoop?: LoopDelay;
  readonly saturated: PhaseOutcome;
  readonly saturatedJobs: JobCheck;
  readonly fixed: PhaseOutcome;
  readonly fixedJobs: JobCheck;
  /** CPU ms the target's redis-server used during saturation. */
  readonly saturatedRedisCpuMs: number;
  /** CPU µs the load generator spent per request during saturation. */
  readonly generatorUsPerRequest: number;
  /** With `BENCH_LOAD=both`: the same target saturated by autocannon after the raw generator. */
  readonly cannon?: Saturation;
  /** With `BENCH_PACED=both`: the paced phase again, with the raw-socket client. */
  readonly fixedRaw?: { readonly outcome: PhaseOutcome; readonly jobs: JobCheck };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function benchTarget(target: Target, pair: number, bodies: readonly SignedBody[]): Promise<TargetRow> {
  const running = await startTarget(target);
  const redis = new Redis(running.ready.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const { url, waitKey } = running.ready;
    const primary = LOAD === 'autocannon' ? 'autocannon' : 'raw';
    console.log(`${target}: listening at ${url}; warm-up ${WARMUP.seconds} s`);
    await saturateWith(primary, url, `warmup${pair}`, bodies, WARMUP);
    // The floor stores nothing: there are no jobs to count.
    const noJobs: JobCheck = { jobs: 0, lost: 0, duplicated: 0, unacknowledged: 0 };
    const saturation = async (generator: 'raw' | 'autocannon', phase: string): Promise<Saturation> => {
      console.log(
        `${target}: saturation (${generator}), ${SATURATION.connections} connections for ${SATURATION.seconds} s`,
      );
      await running.loopDelay('reset');
      const redisCpuBefore = await redisCpuMs(redis);
      const scriptCallsBefore = await scriptCalls(redis);
      const generatorCpu = process.cpuUsage();
      const outcome = await saturateWith(generator, url, phase, bodies, SATURATION);
      const used = process.cpuUsage(generatorCpu);
      const generatorUsPerRequest = (used.user + used.system) / Math.max(1, outcome.sent);
      const loop = await running.loopDelay('read');
      const redisCpu = (await redisCpuMs(redis)) - redisCpuBefore;
      const batches = (await scriptCalls(redis)) - scriptCallsBefore;
      if (target !== 'probot')
        console.log(
          `${target}: event loop busy ${((loop?.busy ?? NaN) * 100).toFixed(0)}%, ${batches} intake batches, mean ${(outcome.sent / Math.max(1, batches)).toFixed(1)} requests per batch`,
        );
      const jobs = target === 'floor' ? noJobs : await checkJobs(redis, waitKey, phase, outcome);
      return { outcome, jobs, loop, redisCpuMs: redisCpu, generatorUsPerRequest };
    };
    const sat = await saturation(primary, `sat${pair}`);
    const saturated = sat.outcome;
    const saturatedLoop = sat.loop;
    const saturatedRedisCpuMs = sat.redisCpuMs;
    const saturatedJobs = sat.jobs;
    const generatorUsPerRequest = sat.generatorUsPerRequest;
    let cannon: Saturation | undefined;
    if (LOAD === 'both') {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      cannon = await saturation('autocannon', `satc${pair}`);
    }
    // Let the target drain what saturation left behind (log buffers, GC) before timing latency.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pacedPrimary = PACED_CLIENT === 'raw' ? 'raw' : 'http';
    console.log(`${target}: fixed rate ${PACED.rate}/s for ${PACED.seconds} s (${pacedPrimary} client)`);
    await running.loopDelay('reset');
    const fixed = await pacedWith(pacedPrimary, url, `rate${pair}`, bodies, PACED);
    const fixedLoop = await running.loopDelay('read');
    if (target !== 'probot')
      console.log(
        `${target}: event loop busy ${((fixedLoop?.busy ?? NaN) * 100).toFixed(0)}% at ${PACED.rate}/s`,
      );
    const fixedJobs = target === 'floor' ? noJobs : await checkJobs(redis, waitKey, `rate${pair}`, fixed);
    let fixedRaw: TargetRow['fixedRaw'];
    if (PACED_CLIENT === 'both') {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      console.log(`${target}: fixed rate ${PACED.rate}/s for ${PACED.seconds} s (raw client)`);
      const outcome = await pacedWith('raw', url, `rater${pair}`, bodies, PACED);
      const jobs = target === 'floor' ? noJobs : await checkJobs(redis, waitKey, `rater${pair}`, outcome);
      fixedRaw = { outcome, jobs };
    }
    return {
      target,
      pair,
      saturated,
      saturatedJobs,
      saturatedLoop,
      saturatedRedisCpuMs,
      fixed,
      fixedJobs,
      fixedLoop,
      cannon,
      fixedRaw,
      generatorUsPerRequest,
    };
  } finally {
    redis.disconnect();
    await running.stop();
  }
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 8000).unref();
        }),
    ),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`webhooks bench: ${signal}, stopping the targets`);
    void stopChildren().finally(() => process.exit(130));
  });
// Last resort if the parent dies without the graceful path: the children stop when IPC closes.
process.once('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});
const watchdog = setTimeout(() => {
  console.error(`webhooks bench: still running after ${WATCHDOG_MS / 1000} s, stopping`);
  void stopChildren().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

const bodies = signedBodies(BODY_RING, BENCH_SECRET);
console.log('one delivery, stage by stage, in this process (median of 5 rounds):');
console.table(deliveryCost(bodies[0]!.body, BENCH_SECRET));

const only = (process.env.BENCH_TARGETS ?? '').split(',').filter(Boolean);
const rows: TargetRow[] = [];
const loads: number[] = [];
try {
  for (let pair = 1; pair <= PAIRS; pair++) {
    const [load1] = loadavg();
    loads.push(load1 ?? NaN);
    console.log(
      `\npair ${pair}/${PAIRS}: load average ${load1?.toFixed(2)} on ${availableParallelism()} cores${(load1 ?? 0) > availableParallelism() ? ' (busy machine: expect noisy figures)' : ''}`,
    );
    for (const target of TARGETS)
      if (only.length === 0 ? DEFAULT_TARGETS.includes(target) : only.includes(target))
        rows.push(await benchTarget(target, pair, bodies));
  }
} finally {
  await stopChildren();
}

const rateOf = (r: TargetRow): number => r.saturated.accepted / r.saturated.seconds;
/**
 * CPU µs per delivery answered 2xx during saturation: the target process and its redis-server. Much
 * less sensitive than throughput to other work on the machine, which steals wall time, not CPU time.
 */
const cpuOf = (r: TargetRow): { gateway: number; redis: number; total: number } => {
  const per = (ms: number): number => (ms * 1000) / Math.max(1, r.saturated.accepted);
  const gateway = per(r.saturatedLoop?.cpuMs ?? NaN);
  const redis = per(r.saturatedRedisCpuMs);
  return { gateway, redis, total: gateway + redis };
};
const latencyOf = (o: PhaseOutcome | undefined, p: number): number =>
  pct(
    [...(o?.latencies ?? [])].sort((a, b) => a - b),
    p,
  );
const latency = (r: TargetRow, p: number): number => latencyOf(r.fixed, p);
/**
 * The answers over 10 ms and how they cluster: a burst is a run of them sent within 50 ms of each
 * other. A few long bursts are stalls (a GC pause, the host descheduling a process: at 1,000/s one
 * 80 ms stall alone puts about 1% of the phase over 10 ms); many short ones are steady slowness.
 */
const slowOf = (o: PhaseOutcome | undefined): string => {
  const lat = o?.latencies ?? [];
  const at = o?.sentAt ?? [];
  const slow = lat
    .map((l, i) => ({ l, t: at[i] ?? NaN }))
    .filter((x) => x.l > 10)
    .sort((a, b) => a.t - b.t);
  if (slow.length === 0) return '0';
  let bursts = 0;
  let last = -Infinity;
  for (const x of slow) {
    if (x.t - last > 50) bursts++;
    last = x.t;
  }
  return `${slow.length} in ${bursts} burst(s), max ${Math.max(...lat).toFixed(0)} ms`;
};
const lostOf = (r: TargetRow): number =>
  r.saturatedJobs.lost + r.fixedJobs.lost + (r.cannon?.jobs.lost ?? 0) + (r.fixedRaw?.jobs.lost ?? 0);
const dupOf = (r: TargetRow): number =>
  r.saturatedJobs.duplicated +
  r.fixedJobs.duplicated +
  (r.cannon?.jobs.duplicated ?? 0) +
  (r.fixedRaw?.jobs.duplicated ?? 0);
/** Accepted/s and CPU µs per delivery (process + redis) under autocannon (`BENCH_LOAD=both`). */
const cannonOf = (r: TargetRow): { rate: number; cpu: number; generator: number } | undefined => {
  const c = r.cannon;
  if (!c) return undefined;
  const n = Math.max(1, c.outcome.accepted);
  return {
    rate: c.outcome.accepted / c.outcome.seconds,
    cpu: ((c.loop?.cpuMs ?? NaN) * 1000) / n + (c.redisCpuMs * 1000) / n,
    generator: c.generatorUsPerRequest,
  };
};
const gcOf = (l: LoopDelay | undefined): string =>
  l ? `${l.gc.ms.toFixed(0)} / ${l.gc.maxMs.toFixed(0)} / ${l.gc.major}` : 'n/a';
const loopOf = (l: LoopDelay | undefined): string =>
  l ? `${l.p50.toFixed(1)} / ${l.p99.toFixed(1)} / ${l.max.toFixed(0)}` : 'n/a';
console.log(
  `\nwebhook intake, issue_comment.created (${bodies[0]?.body.length ?? 0}-byte body), loopback, 2xx only once the job is in Redis`,
);
console.table(
  rows.map((r) => ({
    pair: r.pair,
    target: r.target,
    [`accepted/s @64 conn (${LOAD === 'autocannon' ? 'autocannon' : 'raw'})`]: Math.round(rateOf(r)),
    ...(LOAD === 'both'
      ? {
          'accepted/s @64 conn (autocannon)': Math.round(cannonOf(r)?.rate ?? NaN),
          'CPU µs/delivery (autocannon)': (cannonOf(r)?.cpu ?? NaN).toFixed(0),
        }
      : {}),
    'generator CPU µs/request': `${r.generatorUsPerRequest.toFixed(0)}${r.cannon ? ` (autocannon ${r.cannon.generatorUsPerRequest.toFixed(0)})` : ''}`,
    [`p50 ms @${PACED.rate}/s`]: latency(r, 0.5).toFixed(2),
    [`p99 ms @${PACED.rate}/s`]: latency(r, 0.99).toFixed(2),
    [`answers > 10 ms @${PACED.rate}/s (as the client saw them)`]: slowOf(r.fixed),
    ...(r.fixedRaw
      ? {
          [`p50 / p99 ms @${PACED.rate}/s (raw client)`]: `${latencyOf(r.fixedRaw.outcome, 0.5).toFixed(2)} / ${latencyOf(r.fixedRaw.outcome, 0.99).toFixed(2)}`,
        }
      : {}),
    'CPU µs/delivery (process + redis) @sat': `${cpuOf(r).gateway.toFixed(0)} + ${cpuOf(r).redis.toFixed(0)}`,
    'loop delay p50/p99/max ms (sat)': loopOf(r.saturatedLoop),
    [`loop delay p50/p99/max ms (@${PACED.rate}/s)`]: loopOf(r.fixedLoop),
    'GC ms total / max pause / majors (sat | @1000/s)': `${gcOf(r.saturatedLoop)} | ${gcOf(r.fixedLoop)}`,
    [`gateway's own answers > 10 ms @${PACED.rate}/s`]: r.fixedLoop?.own
      ? `${r.fixedLoop.own.over10ms} of ${r.fixedLoop.own.total}`
      : 'n/a',
    lost: r.target === 'floor' ? '—' : lostOf(r),
    duplicated: r.target === 'floor' ? '—' : dupOf(r),
    'non-2xx/errors':
      r.saturated.non2xx +
      r.saturated.errors +
      r.fixed.non2xx +
      r.fixed.errors +
      (r.fixedRaw ? r.fixedRaw.outcome.non2xx + r.fixedRaw.outcome.errors : 0),
    'jobs / 2xx': `${r.saturatedJobs.jobs + r.fixedJobs.jobs} / ${r.saturated.accepted + r.fixed.accepted}`,
  })),
);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const range = (xs: number[], digits: number): string =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const pairs = Array.from({ length: PAIRS }, (_, i) => ({
  pair: i + 1,
  load: loads[i] ?? NaN,
  dw: rows.find((r) => r.pair === i + 1 && r.target === 'droidworks'),
  pb: rows.find((r) => r.pair === i + 1 && r.target === 'probot'),
}));
const complete = pairs.filter((p) => p.dw && p.pb);
if (complete.length > 0) {
  console.table(
    complete.map((p) => ({
      pair: p.pair,
      'load avg before': p.load.toFixed(2),
      'droidworks/s': Math.round(rateOf(p.dw!)),
      'probot/s': Math.round(rateOf(p.pb!)),
      ratio: `${(rateOf(p.dw!) / rateOf(p.pb!)).toFixed(2)}x`,
      'CPU µs/delivery dw / probot': `${cpuOf(p.dw!).total.toFixed(0)} / ${cpuOf(p.pb!).total.toFixed(0)}`,
      'CPU ratio': `${(cpuOf(p.pb!).total / cpuOf(p.dw!).total).toFixed(2)}x`,
      'droidworks p50 / p99 ms': `${latency(p.dw!, 0.5).toFixed(2)} / ${latency(p.dw!, 0.99).toFixed(2)}`,
      'probot p50 / p99 ms': `${latency(p.pb!, 0.5).toFixed(2)} / ${latency(p.pb!, 0.99).toFixed(2)}`,
    })),
  );
  const ratios = complete.map((p) => rateOf(p.dw!) / rateOf(p.pb!));
  const p99s = complete.map((p) => latency(p.dw!, 0.99));
  const dwRows = rows.filter((r) => r.target === 'droidworks');
  const lost = dwRows.reduce((a, r) => a + lostOf(r), 0);
  const dup = dwRows.reduce((a, r) => a + dupOf(r), 0);
  const ratio = median(ratios);
  const cpuRatios = complete.map((p) => cpuOf(p.pb!).total / cpuOf(p.dw!).total);
  const p99 = median(p99s);
  console.log(
    `droidworks/probot saturated throughput (${LOAD === 'autocannon' ? 'autocannon' : 'raw generator'}): median ${ratio.toFixed(2)}x, range ${range(ratios, 2)}x over ${complete.length} pair(s) (${ratio >= 2 ? 'meets' : 'misses'} >= 2x)`,
  );
  if (LOAD === 'both') {
    const cannonRatios = complete.map((p) => cannonOf(p.dw!)!.rate / cannonOf(p.pb!)!.rate);
    console.log(
      `the same targets saturated by autocannon instead: median ${median(cannonRatios).toFixed(2)}x, range ${range(cannonRatios, 2)}x; per pair ${complete.map((p) => `${Math.round(cannonOf(p.dw!)!.rate)}/${Math.round(cannonOf(p.pb!)!.rate)}`).join(', ')} accepted/s`,
    );
  }
  console.log(
    `probot/droidworks CPU per delivery (process + its redis-server, at saturation): median ${median(cpuRatios).toFixed(2)}x, range ${range(cpuRatios, 2)}x (what the throughput ratio would be with a core each)`,
  );
  console.log(
    `droidworks p99 at ${PACED.rate}/s (${PACED_CLIENT === 'raw' ? 'raw' : 'http'} client): median ${p99.toFixed(2)} ms, range ${range(p99s, 2)} ms (${p99 < 10 ? 'meets' : 'misses'} < 10 ms); Probot's: median ${median(complete.map((p) => latency(p.pb!, 0.99))).toFixed(2)} ms`,
  );
  if (PACED_CLIENT === 'both') {
    const rawP99 = (r: TargetRow | undefined): number => latencyOf(r?.fixedRaw?.outcome, 0.99);
    const dwRaw = complete.map((p) => rawP99(p.dw));
    console.log(
      `the same at ${PACED.rate}/s with the raw-socket client: droidworks p99 median ${median(dwRaw).toFixed(2)} ms, range ${range(dwRaw, 2)} ms; Probot's median ${median(complete.map((p) => rawP99(p.pb))).toFixed(2)} ms`,
    );
  }
  console.log(
    `droidworks lost ${lost}, duplicated ${dup} over all pairs (${lost === 0 && dup === 0 ? 'meets' : 'misses'} zero)`,
  );
}
for (const r of rows) {
  const stray = r.saturatedJobs.unacknowledged + r.fixedJobs.unacknowledged;
  if (stray > 0)
    console.log(
      `${r.target} (pair ${r.pair}): ${stray} job(s) stored for deliveries still in flight when the load stopped`,
    );
}
