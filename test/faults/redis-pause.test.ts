import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { answersSlowerThan } from '../../src/gateway/metrics.js';
import { intakeJobId } from '../../src/queue/jobs.js';
import {
  sendDelivery,
  sendPaced,
  signDelivery,
  type DeliveryAnswer,
  type SignedDelivery,
} from '../support/delivery-load.js';
import {
  commentPayload,
  startGateway,
  WEBHOOK_SECRET,
  type GatewayHarness,
} from '../support/gateway-harness.js';
import { startPausableRedis, type PausableRedis } from '../support/pausable-redis.js';

/**
 * Issue 10, findings 1 and 2: the real gateway over real HTTP at ~200 deliveries/s while its real
 * redis-server is frozen with SIGSTOP, then every delivery that did not get a 2xx is sent again
 * byte for byte (as GitHub's redelivery and the sweeper do). Every 2xx must have exactly one job,
 * every redelivered one must end with exactly one job, and no answer may take more than ~3 s.
 */
const RATE = 200;
const BEFORE_MS = 1000;
const AFTER_MS = 1000;
/** The writer gives up after 2.5 s at most (the connection's command timeout is 2 s); a histogram bucket. */
const MAX_ANSWER_MS = 3500;

function deliveries(count: number, tag: string): SignedDelivery[] {
  return Array.from({ length: count }, (_, i) =>
    signDelivery(
      `${tag}-${i}`,
      'issue_comment',
      {
        ...commentPayload('/droid status'),
        comment: { id: 1000 + i, body: '/droid status', user: { login: 'alice', type: 'User' } },
      },
      WEBHOOK_SECRET,
    ),
  );
}

const ok = (a: DeliveryAnswer): boolean => a.status >= 200 && a.status < 300;

describe('intake while Redis is frozen', () => {
  let redis: PausableRedis | undefined;
  let gateway: GatewayHarness | undefined;
  afterEach(async () => {
    await gateway?.close();
    await redis?.stop();
    gateway = undefined;
    redis = undefined;
  });

  it.each([2000, 8000])(
    'a %i ms pause loses and duplicates nothing, and answers every request within ~3 s',
    async (pauseMs) => {
      redis = await startPausableRedis();
      gateway = await startGateway(redis.url);
      const server = redis;
      const sent = deliveries(((BEFORE_MS + pauseMs + AFTER_MS) * RATE) / 1000, `p${pauseMs}`);
      const timers = [
        setTimeout(() => server.pause(), BEFORE_MS),
        setTimeout(() => server.resume(), BEFORE_MS + pauseMs),
      ];
      let answers: DeliveryAnswer[];
      try {
        answers = await sendPaced(gateway.url, sent, RATE);
      } finally {
        timers.forEach(clearTimeout);
        server.resume();
      }
      const failed = answers.filter((a) => !ok(a));
      // Every failure was a 503 (never a hang); 8 s is longer than any timeout, so some failed.
      if (pauseMs > 3000) expect(failed.length).toBeGreaterThan(0);
      expect(failed.filter((a) => a.status !== 503).map((a) => a.status)).toEqual([]);
      // The gateway's own view (its intake histogram: request handled to answer). The client's view
      // adds TCP connects (every request of a pause opens a new connection) and, on a starved
      // machine, its own scheduling; it is printed, and judged by bench/faults.ts.
      const slow = await answersSlowerThan(gateway.metrics, MAX_ANSWER_MS / 1000);
      expect(slow).toEqual({ slower: 0, total: answers.length });
      const slowest = Math.max(...answers.map((a) => a.ms));
      console.log(
        `${pauseMs} ms pause: ${failed.length} answered 503, slowest answer ${slowest.toFixed(0)} ms as the client saw it`,
      );

      // GitHub's redelivery: the same bytes, the same X-GitHub-Delivery.
      const agent = new Agent({ keepAlive: true, maxSockets: 64 });
      try {
        const again = await Promise.all(failed.map((a) => sendDelivery(gateway!.url, a.delivery, agent)));
        expect(again.filter((a) => !ok(a)).map((a) => a.status)).toEqual([]);
      } finally {
        agent.destroy();
      }

      const waiting = await gateway.redis.lrange(`${gateway.prefix}:intake:wait`, 0, -1);
      const counts = new Map<string, number>();
      for (const id of waiting) counts.set(id, (counts.get(id) ?? 0) + 1);
      const lost = sent.filter((d) => counts.get(intakeJobId(d.id)) !== 1).map((d) => d.id);
      expect(lost).toEqual([]);
      expect(waiting).toHaveLength(sent.length);
    },
    60_000,
  );
});
