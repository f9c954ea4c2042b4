import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { createLogger } from '../util/logger.js';
import { startTracing, type Tracing } from './start-tracing.js';
import { traceDeliveries } from './trace-deliveries.js';

describe('traceDeliveries (real SDK, in-process OTLP/HTTP receiver)', () => {
  let receiver: OtlpReceiver | undefined;
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    await receiver?.close();
    tracing = receiver = undefined;
  });

  it('sends a span per webhook delivery, with its event, delivery id and status, and none for other routes', async () => {
    receiver = await startOtlpReceiver();
    const logger = createLogger({ level: 'silent' });
    expect(startTracing({ url: undefined, headers: {}, serviceName: 'x' }, logger)).toBeUndefined();
    tracing = startTracing(
      { url: `${receiver.url}/v1/traces`, headers: { 'x-test': '1' }, serviceName: 'gw' },
      logger,
    );
    const app = new Hono();
    app.post('/webhooks/github', (c) => c.json({ status: 'queued' }, 202));
    app.get('/healthz', (c) => c.json({ status: 'ok' }));
    const fetch = traceDeliveries(app.fetch, tracing!.tracer);
    const delivery = (id: string) =>
      new Request('http://127.0.0.1:3000/webhooks/github', {
        method: 'POST',
        headers: { 'x-github-event': 'issues', 'x-github-delivery': id, 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await fetch(delivery('d-1'))).status).toBe(202);
    expect((await fetch(new Request('http://127.0.0.1:3000/healthz'))).status).toBe(200);
    expect((await fetch(new Request('http://127.0.0.1:3000/webhooks/github'))).status).toBe(404);
    await tracing!.shutdown();
    tracing = undefined;

    expect(receiver.refused).toEqual([]);
    expect(receiver.spans.map((s) => [s.name, s.service, s.attributes])).toEqual([
      [
        'webhook delivery',
        'gw',
        expect.objectContaining({
          'github.event': 'issues',
          'github.delivery': 'd-1',
          'http.response.status_code': 202,
        }),
      ],
    ]);
  });
});
