import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly deliveries: Counter<'event' | 'outcome'>;
  readonly intakeLatency: Histogram<'outcome'>;
  readonly queueDepth: Gauge<'queue' | 'state'>;
}

/**
 * Answers slower than `seconds`, from the intake histogram (a bucket bound), and the answers in all.
 * The fault test and `bench/faults.ts` read it: the gateway's own view, without the client's TCP.
 */
export async function answersSlowerThan(
  metrics: GatewayMetrics,
  seconds: number,
): Promise<{ slower: number; total: number }> {
  const { values } = await metrics.intakeLatency.get();
  let total = 0;
  let within = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_count')) total += v.value;
    if (v.metricName?.endsWith('_bucket') && Number((v.labels as Record<string, unknown>).le) === seconds)
      within += v.value;
  }
  return { slower: total - within, total };
}

/**
 * Prometheus metrics on a registry of their own (no global state), so several apps can live in one
 * process (tests, `droidworks start`).
 */
export function createGatewayMetrics(options: { collectDefaults?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.collectDefaults) collectDefaultMetrics({ register: registry, prefix: 'droidworks_' });
  return {
    registry,
    deliveries: new Counter({
      name: 'droidworks_webhook_deliveries_total',
      help: 'Webhook deliveries by event and outcome (accepted, duplicate, ignored, unauthorized, invalid, unavailable).',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    }),
    intakeLatency: new Histogram({
      name: 'droidworks_webhook_intake_seconds',
      help: 'Time from request received to response, with the job durably in Redis.',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3.5, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'droidworks_queue_jobs',
      help: 'Jobs per queue and state.',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
  };
}
