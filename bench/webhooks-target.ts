/**
 * One target of bench/webhooks.ts, run in a child process of its own so the server and the load
 * generator do not share an event loop: `node --import tsx bench/webhooks-target.ts <target>`.
 *
 * - `droidworks`: the real gateway (its node fast path for the webhook route, Hono for the rest,
 *   real verifier, micro-batched intake writer, real BullMQ queue), wired as `droidworks gateway`
 *   wires it.
 * - `probot`: a minimal Probot 14 app on a plain node http server whose `issue_comment.created`
 *   handler enqueues the same intake job with `queue.add` (Probot answers after handlers finish).
 *
 * Each target starts a private redis-server (no persistence), logs JSON at `info` to stdout (the
 * parent points stdout at /dev/null), and tells the parent over IPC where it listens. It stops on
 * SIGTERM, SIGINT or when the parent goes away, and always stops its redis-server.
 */
import { createServer, type Server } from 'node:http';
import {
  constants as perfConstants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
} from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Probot, createNodeMiddleware } from 'probot';
import { createGatewayApp } from '../src/gateway/app.js';
import { createGatewayServer } from '../src/gateway/gateway-listener.js';
import { answersSlowerThan, createGatewayMetrics } from '../src/gateway/metrics.js';
import { routeEvent, type RouteSettings } from '../src/gateway/route-event.js';
import { createWebhookVerifier } from '../src/github/verify-webhook.js';
import { startEmbeddedRedis } from '../src/queue/embedded-redis.js';
import { createIntakeWriter } from '../src/queue/intake-writer.js';
import { intakeJobId } from '../src/queue/jobs.js';
import { createQueues, QUEUE_NAMES } from '../src/queue/queues.js';
import { createRedisConnection } from '../src/queue/redis-connection.js';
import { createLogger, type Logger } from '../src/util/logger.js';

export const BENCH_SECRET = 'bench-webhook-secret';
export const BENCH_PREFIX = 'bench';
export const WEBHOOK_PATH = '/webhooks/github';
export const TARGETS = ['droidworks', 'probot', 'floor', 'droidworks-node'] as const;
export type Target = (typeof TARGETS)[number];
/** The pair alternated by default; `floor` runs only when `BENCH_TARGETS` names it. */
export const DEFAULT_TARGETS: readonly Target[] = ['droidworks', 'probot'];

/**
 * Event-loop delay of the target over one phase, in ms (`perf_hooks.monitorEventLoopDelay`), and the
 * CPU time the target process used over the same phase (user + system, `process.cpuUsage`).
 */
export interface LoopDelay {
  readonly type: 'loop-delay';
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly cpuMs: number;
  /** Share of the phase the event loop was busy (`performance.eventLoopUtilization`), 0–1. */
  readonly busy: number;
  /** Garbage collection over the phase: pause time in ms, the longest pause, major collections. */
  readonly gc: { readonly ms: number; readonly maxMs: number; readonly major: number };
  /**
   * droidworks only: answers its own intake histogram timed over 10 ms (request handled to answer),
   * of all it answered: the gateway's view, without the load generator's or the scheduler's delays.
   */
  readonly own?: { readonly over10ms: number; readonly total: number };
}

/** Asks the target to start a new event-loop delay histogram (`reset`) or report it (`read`). */
export type LoopDelayRequest = { readonly type: 'loop-delay'; readonly op: 'reset' | 'read' };

/** What the child tells the parent once it listens. */
export interface TargetReady {
  readonly type: 'ready';
  readonly url: string;
  readonly redisUrl: string;
  /** Redis list that holds the ids of waiting intake jobs. */
  readonly waitKey: string;
}

const SETTINGS: RouteSettings = {
  triggerLabel: 'droid',
  commandPrefix: '/droid',
  botLogin: 'droidworks[bot]',
};

async function startDroidworks(redisUrl: string, logger: Logger, webhookLane = true) {
  const redis = createRedisConnection(redisUrl, { role: 'producer' });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const queues = createQueues(redis, BENCH_PREFIX);
  const deps = {
    verifier: createWebhookVerifier(BENCH_SECRET),
    // BENCH_INTAKE_IN_FLIGHT and BENCH_INTAKE_MAX_BATCH compare batching settings (bench/README.md);
    // unset: the product default.
    intake: createIntakeWriter(redis, queues, {
      maxInFlight: process.env.BENCH_INTAKE_IN_FLIGHT
        ? Number(process.env.BENCH_INTAKE_IN_FLIGHT)
        : undefined,
      maxBatch: process.env.BENCH_INTAKE_MAX_BATCH ? Number(process.env.BENCH_INTAKE_MAX_BATCH) : undefined,
    }),
    settings: SETTINGS,
    logger: logger.child({ component: 'gateway' }),
    metrics: createGatewayMetrics({ collectDefaults: true }),
  };
  const { metrics } = deps;
  // As `droidworks gateway` serves it: the node fast path for webhooks, Hono for the rest.
  // BENCH_DROIDWORKS_SERVER=hono serves everything through @hono/node-server instead (the same
  // delivery handler behind Hono's adapter, as before issue 11's second round), for comparison.
  const app = createGatewayApp(deps);
  const server =
    process.env.BENCH_DROIDWORKS_SERVER === 'hono'
      ? (createAdaptorServer({ fetch: app.fetch }) as Server)
      : createGatewayServer(app, deps, { webhookLane });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    own: {
      reset: () => metrics.intakeLatency.reset(),
      async read() {
        const { slower, total } = await answersSlowerThan(metrics, 0.01);
        return { over10ms: slower, total };
      },
    },
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}

interface RunningServer {
  readonly server: Server;
  readonly own?: {
    reset(): void;
    read(): Promise<{ over10ms: number; total: number }>;
  };
  close(): Promise<void>;
}

async function startProbot(redisUrl: string, logger: Logger) {
  const redis = createRedisConnection(redisUrl, { role: 'producer' });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const queues = createQueues(redis, BENCH_PREFIX);
  const probot = new Probot({ githubToken: 'bench-not-used', secret: BENCH_SECRET, log: logger });
  const middleware = await createNodeMiddleware(
    (app) => {
      app.on('issue_comment.created', async (context) => {
        // The same routing and the same job as the gateway: only the HTTP and Redis paths differ.
        const routed = routeEvent(
          context.name,
          context.payload as unknown as Record<string, unknown>,
          SETTINGS,
        );
        if (!routed.accepted) return;
        await queues.intake.add(
          routed.job.kind,
          { ...routed.job, deliveryId: context.id, receivedAt: Date.now() },
          { jobId: intakeJobId(context.id) },
        );
      });
    },
    { probot, webhooksPath: WEBHOOK_PATH },
  );
  const server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}

/**
 * The floor every node gateway pays for this delivery, no queue at all: a plain `node:http` server
 * that collects the body into one Buffer, checks its HMAC with the product's verifier, runs
 * `JSON.parse` over it and answers 202. It stores nothing (the benchmark does not count its jobs).
 */
async function startFloor() {
  const verifier = createWebhookVerifier(BENCH_SECRET);
  const answer = JSON.stringify({ status: 'queued', kind: 'command' });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const signature = req.headers['x-hub-signature-256'];
      void verifier.verify(raw, typeof signature === 'string' ? signature : '').then((ok) => {
        if (!ok) return void res.writeHead(401).end();
        JSON.parse(raw.toString('utf8'));
        res
          .writeHead(202, { 'content-type': 'application/json', 'content-length': answer.length })
          .end(answer);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, close: async () => {} };
}

async function main(target: Target): Promise<void> {
  const redisServer = await startEmbeddedRedis();
  let stopping: Promise<void> | undefined;
  let running: RunningServer | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      const timer = setTimeout(() => process.exit(code), 5000).unref();
      try {
        if (running) {
          running.server.closeAllConnections();
          await new Promise<void>((resolve) => running?.server.close(() => resolve()));
          await running.close();
        }
      } catch (err) {
        console.error(`${target}: error while stopping, exiting anyway`, err);
      } finally {
        await redisServer.stop();
        clearTimeout(timer);
        process.exit(code);
      }
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop(0));
  process.once('disconnect', () => void stop(0));
  // Stalls (GC of large bodies, a long batch, blocking work) show here as delay, not just as p99.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let cpuSince = process.cpuUsage();
  let eluSince = performance.eventLoopUtilization();
  let gc = { ms: 0, maxMs: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.ms += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m: LoopDelayRequest) => {
    if (m.type !== 'loop-delay') return;
    if (m.op === 'reset') {
      cpuSince = process.cpuUsage();
      eluSince = performance.eventLoopUtilization();
      gc = { ms: 0, maxMs: 0, major: 0 };
      running?.own?.reset();
      return loop.reset();
    }
    const cpu = process.cpuUsage(cpuSince);
    const ms = (ns: number): number => ns / 1e6;
    const reply: Omit<LoopDelay, 'own'> = {
      type: 'loop-delay',
      p50: ms(loop.percentile(50)),
      p99: ms(loop.percentile(99)),
      max: ms(loop.max),
      cpuMs: (cpu.user + cpu.system) / 1000,
      busy: performance.eventLoopUtilization(eluSince).utilization,
      gc,
    };
    void (running?.own?.read() ?? Promise.resolve(undefined)).then((own) =>
      process.send?.({ ...reply, own } satisfies LoopDelay),
    );
  });
  try {
    const logger = createLogger({ level: 'info' });
    running =
      target === 'droidworks' || target === 'droidworks-node'
        ? await startDroidworks(redisServer.url, logger, target === 'droidworks')
        : target === 'probot'
          ? await startProbot(redisServer.url, logger)
          : await startFloor();
    const address = running.server.address();
    if (!address || typeof address === 'string') throw new Error('server has no TCP address');
    const ready: TargetReady = {
      type: 'ready',
      url: `http://127.0.0.1:${address.port}`,
      redisUrl: redisServer.url,
      waitKey: `${BENCH_PREFIX}:${QUEUE_NAMES.intake}:wait`,
    };
    process.send?.(ready);
  } catch (err) {
    console.error(`${target}: could not start`, err);
    await stop(1);
  }
}

// Runs only as the child's entry point; bench/webhooks.ts imports the constants above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2];
  if (!TARGETS.includes(target as Target)) {
    console.error(`usage: webhooks-target.ts <${TARGETS.join('|')}>`);
    process.exit(2);
  }
  await main(target as Target);
}
