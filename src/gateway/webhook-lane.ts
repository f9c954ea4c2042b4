import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { MAX_WEBHOOK_BYTES, type DeliveryAnswer, type DeliveryHeaders } from './handle-delivery.js';

/** What the lane hands a delivery to: the gateway's one delivery handler. */
export type LaneHandler = (
  headers: DeliveryHeaders,
  raw: Uint8Array,
  started: number,
) => Promise<DeliveryAnswer>;

export interface WebhookLaneOptions {
  /** Idle time after which a keep-alive connection is closed (node's `keepAliveTimeout`). */
  readonly keepAliveMs: number;
  /** Time a request's head may take to arrive (node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** Time a whole request may take to arrive (node's `requestTimeout`). @defaultValue 300 000 */
  readonly requestTimeoutMs?: number;
}

/** Node's own limit on a request head (`--max-http-header-size`); a larger head goes to node. */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Characters no header value of a request the lane serves may hold (node would judge it). */
const UNSAFE_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
const REQUEST_LINE_END = ' HTTP/1.1';
/** The webhook path, with a query of printable ASCII only (node judges anything else). */
const WEBHOOK_TARGET = /^\/webhooks\/github(?:\?[\x21-\x7e]*)?$/;
/**
 * GitHub sends about fifteen header lines, a proxy adds a few. A head with many more goes to node,
 * which keeps only its first 1,000 headers (`maxHeadersCount`) and would not see later ones.
 */
const MAX_HEADER_LINES = 100;

/** A request the lane serves: the delivery's headers, its body length, and whether to close. */
interface LaneRequest {
  readonly headers: DeliveryHeaders;
  readonly length: number;
  readonly close: boolean;
}

/** Header values of the request line's optional whitespace, trimmed as HTTP does (SP and HTAB only). */
function trimValue(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return value.slice(start, end);
}

/**
 * Reads a request head (without its final blank line) as the lane serves it: `POST` to the
 * webhook path over HTTP/1.1, with one `Host`, one `Content-Length` within GitHub's cap, and no
 * `Transfer-Encoding`, `Expect` or `Upgrade`. Anything else, or anything unusual (a repeated header
 * the handler reads, a folded or malformed line, a control character), returns `undefined`: the
 * connection then goes to node's HTTP parser, which judges it exactly as it judges every other
 * request. Exported for tests.
 */
export function parseLaneHead(head: string): LaneRequest | undefined {
  const lines = head.split('\r\n');
  const requestLine = lines[0]!;
  if (!requestLine.startsWith('POST ') || !requestLine.endsWith(REQUEST_LINE_END)) return undefined;
  if (!WEBHOOK_TARGET.test(requestLine.slice(5, -REQUEST_LINE_END.length))) return undefined;
  if (lines.length > MAX_HEADER_LINES + 1) return undefined;
  let host = false;
  let length: number | undefined;
  let close = false;
  let event: string | undefined;
  let deliveryId: string | undefined;
  let signature: string | undefined;
  let contentType: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    const raw = line.slice(colon + 1);
    if (UNSAFE_VALUE.test(raw)) return undefined;
    const value = trimValue(raw);
    switch (name) {
      case 'host':
        if (host) return undefined;
        host = true;
        break;
      case 'content-length':
        if (length !== undefined || !DIGITS.test(value)) return undefined;
        length = Number(value);
        break;
      case 'connection': {
        const token = value.toLowerCase();
        if (token === 'close') close = true;
        else if (token !== 'keep-alive') return undefined;
        break;
      }
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'x-github-event':
        if (event !== undefined) return undefined;
        event = value;
        break;
      case 'x-github-delivery':
        if (deliveryId !== undefined) return undefined;
        deliveryId = value;
        break;
      case 'x-hub-signature-256':
        if (signature !== undefined) return undefined;
        signature = value;
        break;
      case 'content-type':
        if (contentType !== undefined) return undefined;
        contentType = value;
        break;
    }
  }
  if (!host || length === undefined || length > MAX_WEBHOOK_BYTES) return undefined;
  return { headers: { event, deliveryId, signature, contentType }, length, close };
}

/** Node's `Date` header value, formatted once per second. */
let dateSecond = -1;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** The answer as node's `writeHead(status, {content-type, content-length}).end(body)` writes it. */
function responseText(answer: DeliveryAnswer, close: boolean, keepAliveSeconds: number): string {
  const connection = close
    ? 'Connection: close\r\n'
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n`;
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n` +
    `Date: ${httpDate()}\r\n${connection}\r\n${answer.body}`
  );
}

interface Slot {
  answer: DeliveryAnswer | undefined;
  readonly close: boolean;
}

/** One connection while the lane serves it. */
interface LaneConnection {
  readonly socket: Socket;
  /** When the request being received began (ms, `performance.now()`), or undefined between requests. */
  receivingSince: number | undefined;
  /** Whether the head of the request being received is complete. */
  headDone: boolean;
  /** Answers owed, in request order. */
  readonly owed: Slot[];
}

/**
 * Serves `POST /webhooks/github` on the gateway's server below node's HTTP layer, on the sockets
 * themselves: node's `IncomingMessage`/`ServerResponse` machinery cost about an eighth of a delivery's CPU
 * (bench/README.md). The lane takes every new connection first and reads request heads itself;
 * the moment a request is anything but a plain webhook delivery (another path or method, chunked,
 * `Expect`, a repeated or malformed header, a head over 16 kB, a body over the cap), the socket is
 * handed, with the bytes already read, to node's own connection handler, which parses and serves it
 * and every later request on that connection as it always has. So node's parser judges every
 * unusual request, and the lane only ever serves the one shape GitHub sends.
 *
 * Deliveries go to the same handler as node's path (verify, parse, route, store, answer); answers
 * are written in request order (a pipelining client gets them in order), with node's headers.
 * Keep-alive, headers and request timeouts are node's. `server.close()`, `closeIdleConnections()`
 * and `closeAllConnections()` include the lane's connections.
 */
export function attachWebhookLane(server: Server, handle: LaneHandler, options: WebhookLaneOptions): void {
  const nodeListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const keepAliveSeconds = Math.floor(options.keepAliveMs / 1000);
  const requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
  const open = new Set<LaneConnection>();
  let closing = false;
  let sweeper: NodeJS.Timeout | undefined;

  /** Closes requests too slow to arrive, as node's connection checker does (408, then close). */
  function sweep(): void {
    const now = performance.now();
    for (const c of open) {
      if (c.receivingSince === undefined) continue;
      const limit = c.headDone ? requestTimeoutMs : options.headersTimeoutMs;
      if (now - c.receivingSince > limit && c.owed.length === 0) {
        c.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
        c.socket.destroySoon();
      }
    }
  }

  function serve(socket: Socket): void {
    const c: LaneConnection = { socket, receivingSince: undefined, headDone: false, owed: [] };
    open.add(c);
    sweeper ??= setInterval(sweep, Math.min(options.headersTimeoutMs, 5_000)).unref();
    /** Bytes read and not yet consumed: part of a head, or a head and part of its body. */
    let pending: Buffer | undefined;
    /** Body chunks of the current request, when it spans several reads. */
    let bodyChunks: Buffer[] | undefined;
    let bodyBytes = 0;
    let request: LaneRequest | undefined;
    let started = 0;
    let bodyStart = 0;
    /** Set once no more requests are read: the client asked to close, or the server is closing. */
    let finished = false;
    /** Bytes to hand to node once the answers owed are written. */
    let handoff: Buffer | undefined;
    /** The client half-closed: it sends nothing more. */
    let peerEnded = false;

    const onData = (chunk: Buffer): void => {
      if (finished) return;
      // Paused for the hand-off; anything that still arrives goes to node with the rest.
      if (handoff) return void (handoff = Buffer.concat([handoff, chunk]));
      if (c.receivingSince === undefined) c.receivingSince = performance.now();
      if (bodyChunks) {
        bodyChunks.push(chunk);
        bodyBytes += chunk.length;
        if (bodyBytes < bodyStart + request!.length) return;
        pending = Buffer.concat(bodyChunks, bodyBytes);
        bodyChunks = undefined;
      } else pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      consume();
    };

    /** Serves every complete request in `pending`, then keeps what is left. */
    function consume(): void {
      while (pending) {
        if (!request) {
          const end = pending.indexOf(HEAD_END);
          if (end < 0 || end > MAX_HEAD_BYTES) {
            if (end >= 0 || pending.length > MAX_HEAD_BYTES) return handOff(pending);
            return;
          }
          request = parseLaneHead(pending.toString('latin1', 0, end));
          if (!request) return handOff(pending);
          started = performance.now();
          c.headDone = true;
          bodyStart = end + HEAD_END.length;
        }
        const total = bodyStart + request.length;
        if (pending.length < total) {
          // The rest of the body comes in later reads: collect them, join once.
          bodyChunks = [pending];
          bodyBytes = pending.length;
          pending = undefined;
          return;
        }
        const raw = pending.subarray(bodyStart, total);
        pending = pending.length > total ? pending.subarray(total) : undefined;
        const { headers, close } = request;
        request = undefined;
        c.headDone = false;
        c.receivingSince = pending ? performance.now() : undefined;
        const slot: Slot = { answer: undefined, close: close || closing };
        c.owed.push(slot);
        void handle(headers, raw, started).then((answer) => {
          slot.answer = answer;
          drain();
        });
        if (slot.close) {
          finished = true;
          pending = undefined;
          return;
        }
      }
    }

    /** Writes the answers that are ready, in order; then closes or hands off if that is due. */
    function drain(): void {
      const { owed } = c;
      while (owed.length > 0 && owed[0]!.answer !== undefined) {
        const slot = owed.shift()!;
        socket.write(responseText(slot.answer!, slot.close, keepAliveSeconds));
        if (slot.close) {
          socket.end();
          return;
        }
      }
      if (owed.length > 0) return;
      if (handoff) toNode(handoff);
      else if (peerEnded || (closing && !request && !pending)) socket.end();
    }

    /** Hands the connection to node once nothing is owed, with the bytes it has not consumed. */
    function handOff(bytes: Buffer): void {
      pending = undefined;
      handoff = bytes;
      socket.pause();
      if (c.owed.length === 0) toNode(bytes);
    }

    function toNode(bytes: Buffer): void {
      open.delete(c);
      if (socket.readableEnded) {
        // The client half-closed before node could take over (cannot unshift after 'end'):
        // what it sent after its last delivery goes unanswered, as on a closed connection.
        socket.end();
        return;
      }
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      socket.unshift(bytes);
      for (const listener of nodeListeners) listener.call(server, socket);
      socket.resume();
    }

    const onEnd = (): void => {
      // The client will send nothing more; answer what is owed, then close.
      peerEnded = true;
      finished = true;
      if (c.owed.length === 0 && !handoff) socket.end();
    };
    const onError = (): void => {
      socket.destroy();
    };
    const onClose = (): void => {
      open.delete(c);
    };
    const onTimeout = (): void => {
      if (c.owed.length === 0) socket.destroy();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(options.keepAliveMs);
  }

  server.on('connection', serve);

  const isIdle = (c: LaneConnection): boolean => c.owed.length === 0 && c.receivingSince === undefined;
  const nodeClose = server.close.bind(server);
  const nodeCloseIdle = server.closeIdleConnections.bind(server);
  const nodeCloseAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const c of open) if (isIdle(c)) c.socket.end();
    nodeCloseIdle();
  };
  server.closeAllConnections = () => {
    for (const c of open) c.socket.destroy();
    nodeCloseAll();
  };
  server.close = (callback?: (err?: Error) => void) => {
    closing = true;
    if (sweeper) clearInterval(sweeper);
    for (const c of open) if (isIdle(c)) c.socket.end();
    return nodeClose(callback);
  };
  server.once('close', () => {
    if (sweeper) clearInterval(sweeper);
  });
}
