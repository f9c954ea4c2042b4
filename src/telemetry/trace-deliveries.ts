import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';

/** The shape of a Hono app's `fetch` (with @hono/node-server's extra arguments passed through). */
type Fetch = (request: Request, ...rest: never[]) => Response | Promise<Response>;

/** The webhook route; every other request (health, metrics, dashboard) is not traced. */
const WEBHOOK_PATH = '/webhooks/github';

/**
 * `fetch` with a span per webhook delivery (`webhook delivery`): the event, the delivery id and the
 * status it was answered with. Used only when tracing is on, so the hot path pays nothing otherwise.
 * The delivery has no run id yet (the worker decides which run it starts); the run's span carries
 * the same `github.delivery` attribute to join them.
 */
export function traceDeliveries<F extends Fetch>(fetch: F, tracer: Tracer): F {
  const traced = (request: Request, ...rest: never[]): Promise<Response> | Response => {
    if (request.method !== 'POST' || !isWebhookPath(request.url)) return fetch(request, ...rest);
    const event = request.headers.get('x-github-event');
    const delivery = request.headers.get('x-github-delivery');
    return tracer.startActiveSpan(
      'webhook delivery',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'POST',
          'url.path': WEBHOOK_PATH,
          ...(event ? { 'github.event': event } : {}),
          ...(delivery ? { 'github.delivery': delivery } : {}),
        },
      },
      async (span) => {
        try {
          const response = await fetch(request, ...rest);
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          return response;
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  };
  return traced as F;
}

function isWebhookPath(url: string): boolean {
  // `http://host:port/webhooks/github?x`: the path starts after the third slash.
  const start = url.indexOf('/', url.indexOf('//') + 2);
  return start >= 0 && url.startsWith(WEBHOOK_PATH, start);
}
