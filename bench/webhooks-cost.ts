/**
 * One delivery's cost, stage by stage, measured in-process on the benchmark's own signed body with
 * the product's functions (bench/webhooks.ts prints it before the load phases). Each stage runs
 * `ITERATIONS` times per round, 5 rounds; the table shows the median, min and max µs per call.
 * Stages marked "before" are what the gateway did before issue 11, kept for comparison.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Writable } from 'node:stream';
import { createGatewayMetrics } from '../src/gateway/metrics.js';
import { routeEvent, type RouteSettings } from '../src/gateway/route-event.js';
import { createLogger } from '../src/util/logger.js';

const ITERATIONS = 2000;
const ROUNDS = 5;
const SETTINGS: RouteSettings = {
  triggerLabel: 'droid',
  commandPrefix: '/droid',
  botLogin: 'droidworks[bot]',
};

let sink: unknown;

function time(run: () => unknown): { median: number; min: number; max: number } {
  for (let i = 0; i < 200; i++) sink = run();
  const perCall: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < ITERATIONS; i++) sink = run();
    perCall.push(((performance.now() - t0) * 1000) / ITERATIONS);
  }
  perCall.sort((a, b) => a - b);
  return { median: perCall[Math.floor(ROUNDS / 2)]!, min: perCall[0]!, max: perCall[ROUNDS - 1]! };
}

export function deliveryCost(
  body: Buffer,
  secret: string,
): Array<{ stage: string; 'µs median': string; 'µs min–max': string }> {
  const text = body.toString('utf8');
  const signature = createHmac('sha256', secret).update(body).digest();
  const payload = JSON.parse(text) as Record<string, unknown>;
  const routed = routeEvent('issue_comment', payload, SETTINGS);
  if (!routed.accepted) throw new Error(`benchmark body is not routed: ${routed.reason}`);
  const job = { ...routed.job, deliveryId: 'd', receivedAt: Date.now() };
  // Lines are formatted and handed to a stream that drops them: the logger's own cost, no disk.
  const logger = createLogger({
    level: 'info',
    destination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
  });
  const metrics = createGatewayMetrics();
  const decoder = new TextDecoder();

  const stages: Array<[string, () => unknown]> = [
    ['decode the body (UTF-8)', () => decoder.decode(body)],
    [
      'HMAC-SHA256 over the bytes + timingSafeEqual',
      () => timingSafeEqual(createHmac('sha256', secret).update(body).digest(), signature),
    ],
    ['HMAC over the decoded string (before)', () => createHmac('sha256', secret).update(text).digest()],
    ['JSON.parse of the whole body', () => JSON.parse(text)],
    ['routeEvent', () => routeEvent('issue_comment', payload, SETTINGS)],
    ['JSON.stringify of the intake job', () => JSON.stringify(job)],
    [
      'pino child + info line per delivery (before)',
      () =>
        logger
          .child({ deliveryId: 'd', event: 'issue_comment' })
          .info({ kind: 'command', outcome: 'queued' }, 'delivery stored'),
    ],
    ['debug line, level info (now: skipped)', () => logger.isLevelEnabled('debug')],
    [
      'prom-client counter + histogram',
      () => {
        metrics.deliveries.inc({ event: 'issue_comment', outcome: 'accepted' });
        metrics.intakeLatency.observe({ outcome: 'accepted' }, 0.001);
      },
    ],
  ];
  const rows = stages.map(([stage, run]) => {
    const t = time(run);
    return {
      stage,
      'µs median': t.median.toFixed(2),
      'µs min–max': `${t.min.toFixed(2)}–${t.max.toFixed(2)}`,
    };
  });
  if (sink === Symbol.for('never')) console.log(sink);
  return rows;
}
