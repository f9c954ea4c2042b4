import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import {
  answerRejection,
  createDeliveryHandler,
  decideRejection,
  MAX_WEBHOOK_BYTES,
  tooLarge,
  WEBHOOK_PATH,
  type DeliveryAnswer,
  type DeliveryDeps,
} from './handle-delivery.js';
import { attachWebhookLane } from './webhook-lane.js';

export type GatewayRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * How long an idle keep-alive connection stays open: longer than the usual load balancer idle
 * timeout (60 s), so the balancer, not the gateway, closes it and never reuses a closing socket.
 */
const KEEP_ALIVE_MS = 65_000;

function isWebhookPath(url: string | undefined): boolean {
  return url === WEBHOOK_PATH || (url !== undefined && url.startsWith(`${WEBHOOK_PATH}?`));
}

function send(res: ServerResponse, answer: DeliveryAnswer, close = false): void {
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(answer.body),
  };
  if (close) headers.connection = 'close';
  res.writeHead(answer.status, headers).end(answer.body);
}

/**
 * The gateway's node request listener. `POST /webhooks/github` is answered here, on the node
 * request and response themselves: the body is collected as one Buffer under the size cap and
 * handed to the same delivery handler and error → status mapping the Hono route uses, so the
 * statuses are identical. Every other request goes to the Hono app (`getRequestListener`), so
 * health, readiness, metrics and the dashboard are unchanged. Hono's adapter turns every request
 * into a web `Request` and `Response` (headers, a body stream); on the webhook route that was the
 * largest cost droidworks added to a delivery (bench/README.md).
 */
export function createGatewayListener(
  app: Hono,
  deps: DeliveryDeps,
  handle = createDeliveryHandler(deps),
): GatewayRequestListener {
  const fallback = getRequestListener(app.fetch);

  const refuse = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    const deliveryId = req.headers['x-github-delivery'];
    const answer = answerRejection(
      deps.logger,
      decideRejection(err),
      typeof deliveryId === 'string' ? deliveryId : undefined,
      err,
    );
    // The rest of an oversized body is not read: the connection closes after the answer.
    send(res, answer, true);
  };

  function receive(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const h = req.headers;
    const length = h['content-length'];
    // With a Content-Length (GitHub always sends one) the header decides before any byte is read.
    if (
      length !== undefined &&
      h['transfer-encoding'] === undefined &&
      parseInt(length, 10) > MAX_WEBHOOK_BYTES
    )
      return refuse(req, res, tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      // Chunked bodies are counted while streaming and refused at the limit.
      if (size > MAX_WEBHOOK_BYTES) {
        refused = true;
        chunks.length = 0;
        refuse(req, res, tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      // The request (and so this closure) lives until the answer; the chunks need not.
      chunks.length = 0;
      const event = h['x-github-event'];
      const deliveryId = h['x-github-delivery'];
      const signature = h['x-hub-signature-256'];
      void handle(
        {
          event: typeof event === 'string' ? event : undefined,
          deliveryId: typeof deliveryId === 'string' ? deliveryId : undefined,
          signature: typeof signature === 'string' ? signature : undefined,
          contentType: h['content-type'],
        },
        raw,
        started,
      ).then((answer) => send(res, answer));
    });
    // A sender that goes away mid-body gets no answer; nothing was stored for it.
    req.on('error', (err) => {
      if (deps.logger.isLevelEnabled('debug'))
        deps.logger.debug({ err: err.message, deliveryId: h['x-github-delivery'] }, 'delivery aborted');
    });
  }

  return (req, res) => {
    if (req.method === 'POST' && isWebhookPath(req.url)) receive(req, res);
    else void fallback(req, res);
  };
}

export interface GatewayServerOptions {
  /**
   * Serve plain webhook deliveries on the sockets, below node's HTTP layer (webhook-lane.ts).
   * Off, every request goes through node's `http` server. @defaultValue true
   */
  readonly webhookLane?: boolean;
}

/**
 * A node HTTP server for the gateway: webhook deliveries on the lane (or node's fast path when a
 * request is anything but a plain delivery), everything else through Hono.
 */
export function createGatewayServer(
  app: Hono,
  deps: DeliveryDeps,
  options: GatewayServerOptions = {},
): Server {
  const handle = createDeliveryHandler(deps);
  const server = createServer({ noDelay: true }, createGatewayListener(app, deps, handle));
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Node requires headersTimeout above keepAliveTimeout, or idle sockets race the header timer.
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  if (options.webhookLane ?? true)
    attachWebhookLane(server, handle, {
      keepAliveMs: KEEP_ALIVE_MS,
      headersTimeoutMs: server.headersTimeout,
      requestTimeoutMs: server.requestTimeout,
    });
  return server;
}
