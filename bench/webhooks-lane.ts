/**
 * The webhook lane against node's HTTP path, in rapid alternation: `npx tsx bench/webhooks-lane.ts`
 * (or `npm run bench -- webhooks-lane`).
 *
 * bench/webhooks.ts alternates targets every ~20 s; on this shared machine the CPU a delivery costs
 * moves by up to 1.6× between such phases (other virtual machines on the host), more than the
 * effect of a change to the gateway itself. Here both variants run at once, each in its own child
 * process with its own redis-server (bench/webhooks-target.ts: `droidworks` with the lane,
 * `droidworks-node` with `webhookLane: false`), and are saturated in turn for short bursts
 * (`BENCH_LANE_ROUNDS` rounds of `BENCH_LANE_SECONDS` s each, default 10 × 2 s; the order flips every
 * round), so both see the same moments of the machine. Each burst gives accepted/s and the target
 * process' CPU µs per delivery; the summary prints the median and range of each, and the median of
 * the per-round ratios. `BENCH_LANE_TARGETS` compares other targets (comma-separated; a target may
 * carry node flags after a space, e.g. `droidworks --max-semi-space-size=64`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saturateRaw, signedBodies } from './webhooks-load.js';
import {
  BENCH_SECRET,
  TARGETS,
  WEBHOOK_PATH,
  type LoopDelay,
  type LoopDelayRequest,
  type Target,
  type TargetReady,
} from './webhooks-target.js';

const ROUNDS = Number(process.env.BENCH_LANE_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_LANE_SECONDS ?? 2);
const CONNECTIONS = 64;
const SPECS = (process.env.BENCH_LANE_TARGETS ?? 'droidworks,droidworks-node').split(',');

interface Running {
  readonly spec: string;
  readonly url: string;
  readonly child: ChildProcess;
  loop(op: 'reset'): void;
  read(): Promise<LoopDelay>;
}

const benchDir = dirname(fileURLToPath(import.meta.url));

function start(spec: string): Promise<Running> {
  const [target, ...flags] = spec.split(' ');
  if (!TARGETS.includes(target as Target)) throw new Error(`unknown target ${target}`);
  const child = spawn(
    process.execPath,
    [...flags, '--import', 'tsx', fileURLToPath(new URL('./webhooks-target.ts', import.meta.url)), target!],
    { cwd: dirname(benchDir), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${spec} exited before listening (code ${code})`)));
    child.once('message', (ready: TargetReady) =>
      resolve({
        spec,
        url: ready.url,
        child,
        loop: (op) => child.send({ type: 'loop-delay', op } satisfies LoopDelayRequest),
        read: () =>
          new Promise((done) => {
            child.send({ type: 'loop-delay', op: 'read' } satisfies LoopDelayRequest);
            child.once('message', (m: LoopDelay) => done(m));
          }),
      }),
    );
  });
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[], digits = 0): string =>
  `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

const bodies = signedBodies(256, BENCH_SECRET);
const running: Running[] = [];
try {
  for (const spec of SPECS) running.push(await start(spec));
  let next = 0;
  const id = (): string => `lane-${process.pid}-${next++}`;
  // Warm-up: JIT, connections, Redis scripts.
  for (const r of running)
    await saturateRaw(r.url, WEBHOOK_PATH, bodies, id, { connections: CONNECTIONS, seconds: 2 });
  const rates = new Map<string, number[]>(SPECS.map((s) => [s, []]));
  const cpu = new Map<string, number[]>(SPECS.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 === 0 ? running : [...running].reverse()) {
      r.loop('reset');
      const outcome = await saturateRaw(r.url, WEBHOOK_PATH, bodies, id, {
        connections: CONNECTIONS,
        seconds: SECONDS,
      });
      const loop = await r.read();
      rates.get(r.spec)!.push(outcome.accepted / outcome.seconds);
      cpu.get(r.spec)!.push((loop.cpuMs * 1000) / Math.max(1, outcome.accepted));
    }
  }
  console.log(
    `\n${ROUNDS} rounds × ${SECONDS} s at ${CONNECTIONS} connections, alternating, load average ${(
      await import('node:os')
    )
      .loadavg()[0]!
      .toFixed(2)} at the end`,
  );
  console.table(
    SPECS.map((s) => ({
      target: s,
      'accepted/s median': Math.round(median(rates.get(s)!)),
      'accepted/s range': range(rates.get(s)!),
      'CPU µs/delivery median': median(cpu.get(s)!).toFixed(1),
      'CPU µs/delivery range': range(cpu.get(s)!, 1),
    })),
  );
  const [a, b] = SPECS;
  if (a && b) {
    const rateRatios = rates.get(a)!.map((v, i) => v / rates.get(b)![i]!);
    const cpuRatios = cpu.get(b)!.map((v, i) => v / cpu.get(a)![i]!);
    console.log(
      `${a} / ${b}: throughput ratio per round median ${median(rateRatios).toFixed(2)}x (${range(rateRatios, 2)}x), ` +
        `CPU per delivery ${b} / ${a} median ${median(cpuRatios).toFixed(2)}x (${range(cpuRatios, 2)}x)`,
    );
  }
} finally {
  for (const r of running) r.child.kill('SIGTERM');
}
