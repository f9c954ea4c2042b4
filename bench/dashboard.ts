/**
 * The live run page: how long a ledger event takes to reach browsers following the run over
 * server-sent events (`GET /runs/:id/events`), with 1 and 25 pages open on the same run. A real
 * gateway HTTP server (Hono on @hono/node-server), a real redis-server; the clients read the
 * stream with fetch. Prints p50/p95/max from append to receipt and the Redis commands per second
 * the open pages cost while idle.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { mountDashboard } from '../src/gateway/dashboard/mount-dashboard.js';
import { RunLedger } from '../src/ledger/index.js';
import { startEmbeddedRedis } from '../src/queue/embedded-redis.js';
import { createLogger } from '../src/util/logger.js';

const EVENTS = 40;
const GAP_MS = 150;
const PASSWORD = 'bench-dashboard-password';
const auth = { authorization: `Basic ${Buffer.from(`droidworks:${PASSWORD}`).toString('base64')}` };

const redisServer = await startEmbeddedRedis();
const redis = new Redis(redisServer.url);
const ledger = new RunLedger(redis, 'bench');
const app = new Hono();
mountDashboard(app, {
  ledger,
  logger: createLogger({ level: 'silent' }),
  password: PASSWORD,
  commandPrefix: '/droid',
  adminLogin: 'bench',
});
let listening!: () => void;
const ready = new Promise<void>((r) => (listening = r));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => listening());
await ready;
const address = server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

/** Opens `pages` streams on a run, appends events, and returns every append→receipt latency (ms). */
async function round(pages: number): Promise<{ latencies: number[]; idleOpsPerSec: number }> {
  const runId = `bench-${pages}-${Date.now()}`;
  await ledger.setState(runId, { status: 'running', subject: 'acme/app#1', workflow: 'resolve-issue' });
  await ledger.append(runId, { type: 'run.started', attempt: 1, resumed: false, workflow: 'resolve-issue' });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const controller = new AbortController();
  const readers = await Promise.all(
    Array.from({ length: pages }, async () => {
      const res = await fetch(
        `${base}/runs/${runId}/events?after=${(await ledger.events(runId)).at(-1)!.id}`,
        {
          headers: auth,
          signal: controller.signal,
        },
      );
      const done = (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of res.body!) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true });
            for (const m of buffer.matchAll(/<strong>(s\d+)<\/strong>/g)) {
              const at = sentAt.get(m[1]!);
              if (at !== undefined) latencies.push(performance.now() - at);
            }
            buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
          }
        } catch (err) {
          if (!controller.signal.aborted) throw err;
        }
      })();
      return { done }; // not the promise itself: awaiting the opening must not wait for the end
    }),
  );
  const statsBefore = await commandsProcessed();
  const idleStart = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const idleOpsPerSec =
    ((await commandsProcessed()) - statsBefore) / ((performance.now() - idleStart) / 1000);
  for (let i = 0; i < EVENTS; i++) {
    const step = `s${i}`;
    sentAt.set(step, performance.now());
    await ledger.append(runId, { type: 'step.started', step });
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await new Promise((r) => setTimeout(r, 1500));
  controller.abort();
  await Promise.all(readers.map((r) => r.done));
  return { latencies, idleOpsPerSec };
}

async function commandsProcessed(): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

try {
  for (const pages of [1, 25]) {
    const { latencies, idleOpsPerSec } = await round(pages);
    console.log(
      `${String(pages).padStart(2)} page(s): ${latencies.length}/${pages * EVENTS} events received; append→page p50 ${pct(latencies, 50).toFixed(0)} ms, p95 ${pct(latencies, 95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; idle Redis load ${idleOpsPerSec.toFixed(0)} commands/s`,
    );
  }
  console.log('target: every event on every page; p95 < 1 s (the stream polls the ledger every 500 ms)');
} finally {
  server.close();
  await new Promise((r) => setTimeout(r, 1500)); // the aborted streams' last polls
  redis.disconnect();
  await redisServer.stop();
}
