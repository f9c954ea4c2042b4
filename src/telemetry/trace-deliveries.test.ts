import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { createLogger } from '../util/logger.js';
import { startTracing, type Tracing } from './start-tracing.js';
import { traceDeliveries } from './trace-deliveries.js';

describe('traceDeliveries (real HTTP, real SDK, in-process OTLP/HTTP receiver)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('sends a span per webhook delivery, with its event, delivery id and status, and none for other routes', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanup.push(() => receiver.close());
    const logger = createLogger({ level: 'silent' });
    expect(startTracing({ url: undefined, headers: {}, serviceName: 'x' }, logger)).toBeUndefined();
    tracing = startTracing(
      { url: `${receiver.url}/v1/traces`, headers: { 'x-test': '1' }, serviceName: 'gw' },
      logger,
    );

    // Stands in for the gateway's own request handler, whichever it is.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = req.url === '/webhooks/github' ? (req.method === 'POST' ? 202 : 404) : 200;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    traceDeliveries(server, tracing!.tracer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const delivery = await fetch(`${url}/webhooks/github`, {
      method: 'POST',
      headers: { 'x-github-event': 'issues', 'x-github-delivery': 'd-1', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(delivery.status).toBe(202);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/webhooks/github`)).status).toBe(404);
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

  it('traces again after a restart in the same process (the first SDK unregistered itself)', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanup.push(() => receiver.close());
    const logger = createLogger({ level: 'silent' });
    for (const n of [1, 2]) {
      const t = startTracing(
        { url: `${receiver.url}/v1/traces`, headers: {}, serviceName: `s${n}` },
        logger,
      )!;
      t.tracer.startSpan(`span ${n}`).end();
      await t.shutdown();
    }
    expect(receiver.spans.map((s) => [s.name, s.service])).toEqual([
      ['span 1', 's1'],
      ['span 2', 's2'],
    ]);
  });
});
