import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';

/** The webhook route; every other request (health, metrics, dashboard) is not traced. */
const WEBHOOK_PATH = '/webhooks/github';

/**
 * A span per webhook delivery (`webhook delivery`) on the gateway's HTTP server: the event, the
 * delivery id and the status it was answered with, from the request's arrival to the end of the
 * answer. It listens beside the server's own request handler, whatever that handler is, and is only
 * attached when tracing is on: without it the hot path pays nothing. The delivery has no run id
 * yet (the worker decides which run it starts); the run's span carries the same `github.delivery`.
 */
export function traceDeliveries(server: EventEmitter, tracer: Tracer): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !isWebhookPath(req.url)) return;
    const event = req.headers['x-github-event'];
    const delivery = req.headers['x-github-delivery'];
    const span = tracer.startSpan('webhook delivery', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'POST',
        'url.path': WEBHOOK_PATH,
        ...(typeof event === 'string' ? { 'github.event': event } : {}),
        ...(typeof delivery === 'string' ? { 'github.delivery': delivery } : {}),
      },
    });
    const end = (): void => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    // The sender went away before the answer was written.
    res.once('close', () => {
      if (res.writableFinished) return;
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the answer' });
      span.end();
    });
  });
}

function isWebhookPath(url: string | undefined): boolean {
  return url === WEBHOOK_PATH || (url !== undefined && url.startsWith(`${WEBHOOK_PATH}?`));
}
