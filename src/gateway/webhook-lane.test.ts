import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { commentPayload, startGateway, WEBHOOK_SECRET } from '../../test/support/gateway-harness.js';
import { startPausableRedis, type PausableRedis } from '../../test/support/pausable-redis.js';
import { createWebhookVerifier } from '../github/verify-webhook.js';
import { createIntakeWriter } from '../queue/intake-writer.js';
import { createQueues, type Queues } from '../queue/queues.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { createLogger } from '../util/logger.js';
import { createGatewayApp } from './app.js';
import { createGatewayListener, createGatewayServer } from './gateway-listener.js';
import { createDeliveryHandler, MAX_WEBHOOK_BYTES, type DeliveryHeaders } from './handle-delivery.js';
import { createGatewayMetrics } from './metrics.js';
import { attachWebhookLane, parseLaneHead, type WebhookLaneOptions } from './webhook-lane.js';

/**
 * The webhook lane (webhook-lane.ts): `parseLaneHead` as a pure function, then the lane on a real
 * gateway over loopback, with raw `node:net` sockets so every byte, split and pipelined request is
 * the test's choice, and a real Redis. Each gateway here is built twice from the same
 * dependencies (verifier, intake writer, Redis, prefix): with the lane, and with
 * `webhookLane: false`, so the lane's answers can be compared with node's own. `startGateway`
 * (test/support/gateway-harness.ts) does not expose its server, and these tests need it: its
 * `request` events tell a request node served from one the lane served (the lane's emit none);
 * without them, a lane that handed everything to node would pass every test over a socket.
 */
const redisUrl = inject('redisUrl');

// ---------------------------------------------------------------------------------------------
// Requests as bytes

const sign = (body: string): string =>
  `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;

const COMMAND = JSON.stringify(commentPayload('/droid status'));
const IGNORED = JSON.stringify(commentPayload('thanks, looks good'));

interface RawDelivery {
  readonly deliveryId?: string;
  readonly event?: string;
  /** The body signed and, unless `sent` is given, sent. @defaultValue a `/droid status` comment */
  readonly body?: string;
  /** Bytes sent as the body instead of `body` (a chunked encoding, a partial body). */
  readonly sent?: string;
  /** Text signed instead of the body. */
  readonly signBody?: string;
  /** The request line. @defaultValue `POST /webhooks/github HTTP/1.1` */
  readonly requestLine?: string;
  /** GitHub's header lines to leave out, by lower-case name. */
  readonly omit?: readonly string[];
  /** Header lines after GitHub's own (`Connection: close`, a repeated header). */
  readonly extra?: readonly string[];
  /** Header lines before GitHub's own. */
  readonly before?: readonly string[];
}

/** A delivery's bytes as GitHub sends them (its header names, casing and order), head in latin1. */
function rawDelivery(d: RawDelivery = {}): Buffer {
  const body = d.body ?? COMMAND;
  const sent = d.sent ?? body;
  const github: Array<[string, string]> = [
    ['host', 'Host: gateway.example'],
    ['user-agent', 'User-Agent: GitHub-Hookshot/044aadd'],
    ['content-length', `Content-Length: ${Buffer.byteLength(sent)}`],
    ['accept', 'Accept: */*'],
    ['content-type', 'Content-Type: application/json'],
    ['x-github-delivery', `X-GitHub-Delivery: ${d.deliveryId ?? randomUUID()}`],
    ['x-github-event', `X-GitHub-Event: ${d.event ?? 'issue_comment'}`],
    ['x-github-hook-id', 'X-GitHub-Hook-ID: 292430182'],
    ['x-hub-signature-256', `X-Hub-Signature-256: ${sign(d.signBody ?? body)}`],
  ];
  const lines = [
    d.requestLine ?? 'POST /webhooks/github HTTP/1.1',
    ...(d.before ?? []),
    ...github.filter(([name]) => !d.omit?.includes(name)).map(([, line]) => line),
    ...(d.extra ?? []),
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(sent)]);
}

const HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: gateway.example\r\n\r\n';
const QUEUED = '{"status":"queued","kind":"command"}';
const DUPLICATE = '{"status":"duplicate","kind":"command"}';

// ---------------------------------------------------------------------------------------------
// A raw client

interface RawResponse {
  readonly status: number;
  /** The status line and header lines as sent, the `Date` value masked. */
  readonly head: readonly string[];
  /** Header values by lower-case name. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Takes one response off the front of `buf`, or undefined while it is incomplete. */
function takeResponse(buf: Buffer, eof: boolean): { response: RawResponse; size: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
  const headers = new Map(
    lines.slice(1).map((l): [string, string] => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
    }),
  );
  const head = lines.map((l) => l.replace(/^Date: .*$/i, 'Date: <date>'));
  let at = end + 4;
  if (status < 200) return { response: { status, head, headers, body: '' }, size: at };
  if (headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
    return { response: { status, head, headers, body: Buffer.concat(parts).toString() }, size: at };
  }
  const length = headers.get('content-length');
  if (length === undefined) {
    // No length: the body runs to the end of the connection.
    if (!eof) return undefined;
    return { response: { status, head, headers, body: buf.toString('utf8', at) }, size: buf.length };
  }
  const total = at + Number(length);
  if (buf.length < total) return undefined;
  return { response: { status, head, headers, body: buf.toString('utf8', at, total) }, size: total };
}

interface RawClient {
  readonly socket: Socket;
  write(bytes: Buffer | string): Promise<void>;
  /** Writes `bytes` cut at the offsets `cuts`, pausing `pauseMs` between the pieces. */
  writeInPieces(bytes: Buffer, cuts: readonly number[], pauseMs?: number): Promise<void>;
  /** The next whole response received. */
  next(timeoutMs?: number): Promise<RawResponse>;
  responses(n: number): Promise<RawResponse[]>;
  /** Resolves once the server has closed its side of the connection. */
  serverClosed(timeoutMs?: number): Promise<void>;
  /** Bytes received and not (yet) part of a whole response. */
  leftover(): string;
}

const sockets = new Set<Socket>();
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function openRaw(port: number): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  sockets.add(socket);
  await once(socket, 'connect');
  let received = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | undefined;
  const changed = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  socket.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
    changed();
  });
  socket.on('end', () => {
    ended = true;
    changed();
  });
  // A reset (the server closing while this side still writes) ends the connection like a FIN.
  socket.on('error', () => {
    ended = true;
    changed();
  });

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `no ${what} within ${timeoutMs} ms; received: ${JSON.stringify(received.toString('latin1'))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  const write = (bytes: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) =>
        err ? reject(err) : resolve(),
      ),
    );

  const next = (timeoutMs = 3000): Promise<RawResponse> =>
    until(
      'response',
      () => {
        const taken = takeResponse(received, ended);
        if (taken) {
          received = received.subarray(taken.size);
          return taken.response;
        }
        if (ended)
          throw new Error(
            `connection closed before a whole response; received: ${JSON.stringify(received.toString('latin1'))}`,
          );
        return undefined;
      },
      timeoutMs,
    );

  return {
    socket,
    write,
    async writeInPieces(bytes, cuts, pauseMs = 1) {
      const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
      let from = 0;
      for (const to of [...points, bytes.length]) {
        if (from > 0) await pause(pauseMs);
        await write(bytes.subarray(from, to));
        from = to;
      }
    },
    next,
    async responses(n) {
      const all: RawResponse[] = [];
      for (let i = 0; i < n; i++) all.push(await next());
      return all;
    },
    async serverClosed(timeoutMs = 2000) {
      await until('close from the server', () => ended || undefined, timeoutMs);
    },
    leftover: () => received.toString('latin1'),
  };
}

// ---------------------------------------------------------------------------------------------
// The gateway, with and without the lane

interface Served {
  readonly server: Server;
  readonly port: number;
}

interface LaneGateway {
  /** The gateway with the lane: as `createGatewayServer` builds it, or with `laneOptions`. */
  readonly lane: Served;
  /** The same gateway (same dependencies, Redis and prefix) with `webhookLane: false`: node's answers. */
  readonly node: Served;
  readonly queues: Queues;
  /** Requests node's HTTP layer served on the lane's server (a request the lane serves emits none). */
  nodeRequests(): number;
  /** Ids of the intake jobs waiting, in the order stored. */
  jobIds(): Promise<string[]>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** Wired as `startGateway` wires it (test/support/gateway-harness.ts), plus the server without the lane. */
async function startLaneGateway(
  o: { readonly lane?: WebhookLaneOptions; readonly redisUrl?: string } = {},
): Promise<LaneGateway> {
  const laneOptions = o.lane;
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const redis = createRedisConnection(o.redisUrl ?? redisUrl, { role: 'producer' });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const queues = createQueues(redis, prefix);
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
  });
  const deps = {
    verifier: createWebhookVerifier(WEBHOOK_SECRET),
    intake: createIntakeWriter(redis, queues),
    settings: { triggerLabel: 'droid', commandPrefix: '/droid', botLogin: 'droidworks[bot]' },
    logger,
    metrics: createGatewayMetrics(),
    readiness: [{ name: 'redis', check: async () => void (await redis.ping()) }],
  };
  const app = createGatewayApp(deps);
  let laneServer: Server;
  if (laneOptions) {
    const handle = createDeliveryHandler(deps);
    laneServer = createServer({ noDelay: true }, createGatewayListener(app, deps, handle));
    laneServer.keepAliveTimeout = laneOptions.keepAliveMs;
    attachWebhookLane(laneServer, handle, laneOptions);
  } else laneServer = createGatewayServer(app, deps);
  let nodeRequests = 0;
  laneServer.on('request', () => nodeRequests++);
  const lane = await listen(laneServer);
  const node = await listen(createGatewayServer(app, deps, { webhookLane: false }));
  return {
    lane,
    node,
    queues,
    nodeRequests: () => nodeRequests,
    // The wait list is LPUSHed: the newest job first.
    jobIds: async () => (await redis.lrange(`${prefix}:intake:wait`, 0, -1)).reverse(),
    async close() {
      for (const { server } of [lane, node]) server.closeAllConnections();
      await Promise.all(
        [lane, node].map(
          ({ server }) =>
            new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
        ),
      );
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await queues.close();
      redis.disconnect();
    },
  };
}

let g: LaneGateway | undefined;
/** A Redis of the test's own that it can freeze, to hold an answer while the client acts. */
let held: PausableRedis | undefined;
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  held?.resume();
  await g?.close();
  g = undefined;
  await held?.stop();
  held = undefined;
});

/** What two answers must share: the `Date` header aside, everything. */
const comparable = (r: RawResponse): Omit<RawResponse, 'headers'> => ({
  status: r.status,
  head: r.head,
  body: r.body,
});

/** Opens a connection to `port`, writes `bytes`, and reads one answer. */
async function ask(port: number, bytes: Buffer | string): Promise<RawResponse> {
  const client = await openRaw(port);
  await client.write(bytes);
  return client.next();
}

const KEEP_ALIVE_HEAD = ['Connection: keep-alive', 'Keep-Alive: timeout=65'];

/** The head node writes for a delivery's answer (gateway-listener.ts `send`), the `Date` masked. */
function answerHead(statusLine: string, body: string, connection = KEEP_ALIVE_HEAD): string[] {
  return [
    statusLine,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'Date: <date>',
    ...connection,
  ];
}

// ---------------------------------------------------------------------------------------------

describe('parseLaneHead', () => {
  const deliveryId = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
  const signature = sign(COMMAND);
  const LINES = [
    'POST /webhooks/github HTTP/1.1',
    'Host: gateway.example',
    'User-Agent: GitHub-Hookshot/044aadd',
    'Content-Length: 6120',
    'Accept: */*',
    'Content-Type: application/json',
    `X-GitHub-Delivery: ${deliveryId}`,
    'X-GitHub-Event: issue_comment',
    'X-GitHub-Hook-ID: 292430182',
    'X-GitHub-Hook-Installation-Target-Type: repository',
    'X-Hub-Signature: sha1=d03c2a5d1ab9c0e6d0d9d8c3bb0b6e5e4f1d2c3b',
    `X-Hub-Signature-256: ${signature}`,
  ];
  const served = {
    headers: { event: 'issue_comment', deliveryId, signature, contentType: 'application/json' },
    length: 6120,
    close: false,
  };

  /** GitHub's head with lines replaced (by the header name they start with), removed or added. */
  function variant(v: {
    requestLine?: string;
    replace?: Record<string, string>;
    drop?: readonly string[];
    add?: readonly string[];
  }): string {
    const name = (l: string): string => l.slice(0, l.indexOf(':')).toLowerCase();
    const lines = LINES.slice(1)
      .filter((l) => !v.drop?.includes(name(l)))
      .map((l) => v.replace?.[name(l)] ?? l);
    return [v.requestLine ?? LINES[0]!, ...lines, ...(v.add ?? [])].join('\r\n');
  }

  /** What a case changes in the parse of GitHub's head. */
  interface Expected {
    readonly headers?: Partial<DeliveryHeaders>;
    readonly length?: number;
    readonly close?: boolean;
  }

  it("serves GitHub's delivery head: the handler's headers, the body length, keep-alive", () => {
    expect(parseLaneHead(LINES.join('\r\n'))).toEqual(served);
  });

  const requestLine = (target: string, method = 'POST', version = 'HTTP/1.1'): string =>
    `${method} ${target} ${version}`;
  const handedToNode: Array<[string, string]> = [
    ['GET', variant({ requestLine: requestLine('/webhooks/github', 'GET') })],
    ['PUT', variant({ requestLine: requestLine('/webhooks/github', 'PUT') })],
    ['a lower-case method', variant({ requestLine: requestLine('/webhooks/github', 'post') })],
    ['another path', variant({ requestLine: requestLine('/webhooks/gitlab') })],
    ['a longer path', variant({ requestLine: requestLine('/webhooks/githubx') })],
    ['a trailing slash', variant({ requestLine: requestLine('/webhooks/github/') })],
    ['the path in another case', variant({ requestLine: requestLine('/Webhooks/github') })],
    ['the root', variant({ requestLine: requestLine('/') })],
    [
      'an absolute-form target',
      variant({ requestLine: requestLine('http://gateway.example/webhooks/github') }),
    ],
    ['whitespace in the query', variant({ requestLine: 'POST /webhooks/github?a b HTTP/1.1' })],
    ['a tab in the query', variant({ requestLine: 'POST /webhooks/github?a\tb HTTP/1.1' })],
    ['a control character in the query', variant({ requestLine: 'POST /webhooks/github?a\x01b HTTP/1.1' })],
    ['DEL in the query', variant({ requestLine: 'POST /webhooks/github?a\x7fb HTTP/1.1' })],
    ['a non-ASCII byte in the query', variant({ requestLine: 'POST /webhooks/github?caf\xe9 HTTP/1.1' })],
    ['two spaces before the target', variant({ requestLine: 'POST  /webhooks/github HTTP/1.1' })],
    ['HTTP/1.0', variant({ requestLine: requestLine('/webhooks/github', 'POST', 'HTTP/1.0') })],
    ['HTTP/2.0', variant({ requestLine: requestLine('/webhooks/github', 'POST', 'HTTP/2.0') })],
    ['a lower-case version', variant({ requestLine: requestLine('/webhooks/github', 'POST', 'http/1.1') })],
    ['a space after the version', variant({ requestLine: `${requestLine('/webhooks/github')} ` })],
    ['chunked Transfer-Encoding', variant({ add: ['Transfer-Encoding: chunked'] })],
    ['any Transfer-Encoding', variant({ add: ['Transfer-Encoding: identity'] })],
    ['Expect', variant({ add: ['Expect: 100-continue'] })],
    ['Upgrade', variant({ add: ['Connection: keep-alive', 'Upgrade: websocket'] })],
    ['Connection: upgrade', variant({ add: ['Connection: upgrade'] })],
    ['a Connection list', variant({ add: ['Connection: keep-alive, close'] })],
    ['a repeated Host', variant({ add: ['Host: gateway.example'] })],
    ['a repeated Content-Length (same value)', variant({ add: ['Content-Length: 6120'] })],
    ['a repeated Content-Length in another case', variant({ add: ['content-length: 6120'] })],
    ['a repeated X-GitHub-Event', variant({ add: ['x-github-event: push'] })],
    ['a repeated X-GitHub-Delivery', variant({ add: [`X-GitHub-Delivery: ${deliveryId}`] })],
    ['a repeated X-Hub-Signature-256', variant({ add: [`X-Hub-Signature-256: ${signature}`] })],
    ['a repeated Content-Type', variant({ add: ['Content-Type: application/json'] })],
    ['a line without a colon', variant({ add: ['X-Forwarded-For 10.0.0.1'] })],
    ['an empty header name', variant({ add: [': value'] })],
    ['a space in a header name', variant({ add: ['X Forwarded: 1'] })],
    ['a space before the colon', variant({ replace: { host: 'Host : gateway.example' } })],
    ['a folded line (SP)', variant({ add: ['X-Note: first', ' continued'] })],
    ['a folded line (HTAB)', variant({ add: ['X-Note: first', '\tcontinued: too'] })],
    ['a NUL in a value', variant({ add: ['X-Note: a\0b'] })],
    ['a control character in a value', variant({ add: ['X-Note: a\x01b'] })],
    ['DEL in a value', variant({ add: ['X-Note: a\x7fb'] })],
    ['a vertical tab in a value', variant({ add: ['X-Note: \x0ba'] })],
    ['a bare CR in a value', variant({ add: ['X-Note: a\rb'] })],
    ['a bare LF in a value', variant({ add: ['X-Note: a\nb'] })],
    ['a non-token character in a name', variant({ add: ['X-Nöte: a'] })],
    ['no Host', variant({ drop: ['host'] })],
    ['no Content-Length', variant({ drop: ['content-length'] })],
    ['an empty Content-Length', variant({ replace: { 'content-length': 'Content-Length:' } })],
    ['a signed Content-Length', variant({ replace: { 'content-length': 'Content-Length: +6120' } })],
    ['a negative Content-Length', variant({ replace: { 'content-length': 'Content-Length: -1' } })],
    ['a hex Content-Length', variant({ replace: { 'content-length': 'Content-Length: 0x10' } })],
    [
      'a Content-Length with an inner space',
      variant({ replace: { 'content-length': 'Content-Length: 61 20' } }),
    ],
    ['a Content-Length list', variant({ replace: { 'content-length': 'Content-Length: 6120, 6120' } })],
    [
      'a 16-digit Content-Length',
      variant({ replace: { 'content-length': 'Content-Length: 1000000000000000' } }),
    ],
    [
      'a Content-Length over the cap',
      variant({ replace: { 'content-length': `Content-Length: ${MAX_WEBHOOK_BYTES + 1}` } }),
    ],
    ['a leading empty line', `\r\n${LINES.join('\r\n')}`],
    [
      'more than 100 header lines',
      variant({ add: Array.from({ length: 101 - (LINES.length - 1) }, (_, i) => `X-Pad-${i}: 1`) }),
    ],
  ];
  it.each(handedToNode)('hands %s to node', (_case, head) => {
    expect(parseLaneHead(head)).toBeUndefined();
  });

  const servedAs: Array<[string, string, Expected]> = [
    ['Connection: close', variant({ add: ['Connection: close'] }), { close: true }],
    ['Connection: CLOSE', variant({ add: ['Connection: CLOSE'] }), { close: true }],
    ['Connection: keep-alive', variant({ add: ['Connection: keep-alive'] }), { close: false }],
    ['Connection: Keep-Alive', variant({ add: ['Connection: Keep-Alive'] }), { close: false }],
    ['a query string', variant({ requestLine: 'POST /webhooks/github?source=proxy&x=1 HTTP/1.1' }), {}],
    ['an empty query string', variant({ requestLine: 'POST /webhooks/github? HTTP/1.1' }), {}],
    [
      'lower-case header names',
      LINES.map((l, i) =>
        i === 0 ? l : l.slice(0, l.indexOf(':')).toLowerCase() + l.slice(l.indexOf(':')),
      ).join('\r\n'),
      {},
    ],
    [
      'upper-case header names',
      LINES.map((l, i) =>
        i === 0 ? l : l.slice(0, l.indexOf(':')).toUpperCase() + l.slice(l.indexOf(':')),
      ).join('\r\n'),
      {},
    ],
    [
      'values padded with SP and HTAB',
      variant({
        replace: {
          'x-github-event': 'X-GitHub-Event:\t issue_comment \t',
          'content-length': 'Content-Length:  6120\t',
          'content-type': 'Content-Type:application/json ',
        },
      }),
      {},
    ],
    [
      'a value with an inner HTAB (kept)',
      variant({ replace: { 'content-type': 'Content-Type: application/json;\tcharset=utf-8' } }),
      { headers: { contentType: 'application/json;\tcharset=utf-8' } },
    ],
    [
      'a value starting with NBSP (not trimmed)',
      variant({ replace: { 'x-github-event': 'X-GitHub-Event: \xa0issue_comment\xa0' } }),
      { headers: { event: '\xa0issue_comment\xa0' } },
    ],
    [
      'an empty event value',
      variant({ replace: { 'x-github-event': 'X-GitHub-Event:' } }),
      { headers: { event: '' } },
    ],
    [
      'no GitHub headers (the handler answers 400/401, as on node)',
      variant({ drop: ['x-github-event', 'x-github-delivery', 'x-hub-signature-256', 'content-type'] }),
      { headers: { event: undefined, deliveryId: undefined, signature: undefined, contentType: undefined } },
    ],
    ['Content-Length: 0', variant({ replace: { 'content-length': 'Content-Length: 0' } }), { length: 0 }],
    [
      'a Content-Length with leading zeros',
      variant({ replace: { 'content-length': 'Content-Length: 0042' } }),
      { length: 42 },
    ],
    [
      'a Content-Length at the cap',
      variant({ replace: { 'content-length': `Content-Length: ${MAX_WEBHOOK_BYTES}` } }),
      { length: MAX_WEBHOOK_BYTES },
    ],
    [
      'a repeated header the handler does not read',
      variant({ add: ['X-GitHub-Hook-ID: 1', 'Accept: */*'] }),
      {},
    ],
    ['obs-text in a value', variant({ add: ['X-Note: caf\xe9'] }), {}],
    [
      'a query of any printable ASCII',
      variant({ requestLine: 'POST /webhooks/github?a="<{|}>"#x HTTP/1.1' }),
      {},
    ],
    [
      '100 header lines',
      variant({ add: Array.from({ length: 100 - (LINES.length - 1) }, (_, i) => `X-Pad-${i}: 1`) }),
      {},
    ],
  ];
  it.each(servedAs)('serves a head with %s', (_case, head, expected) => {
    expect(parseLaneHead(head)).toEqual({
      ...served,
      ...expected,
      headers: { ...served.headers, ...expected.headers },
    });
  });

  it('reads the same request whatever the header order, name case and SP/HTAB padding', () => {
    const headerLines = LINES.slice(1).map((l) => ({
      name: l.slice(0, l.indexOf(':')),
      value: l.slice(l.indexOf(':') + 2),
    }));
    const padding = fc.stringMatching(/^[ \t]{0,3}$/);
    const line = (h: { name: string; value: string }) =>
      fc
        .tuple(
          fc.array(fc.boolean(), { minLength: h.name.length, maxLength: h.name.length }),
          padding,
          padding,
        )
        .map(([upper, before, after]) => {
          const name = [...h.name].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch.toLowerCase())).join('');
          return `${name}:${before}${h.value}${after}`;
        });
    fc.assert(
      fc.property(
        fc
          .tuple(...headerLines.map(line))
          .chain((lines) => fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length })),
        (lines) => {
          expect(parseLaneHead([LINES[0]!, ...lines].join('\r\n'))).toEqual(served);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the webhook lane over a raw socket', () => {
  it('stores a signed /droid comment (202), answers its redelivery 200 duplicate, with node-like heads', async () => {
    g = await startLaneGateway();
    const deliveryId = randomUUID();
    const client = await openRaw(g.lane.port);
    await client.write(rawDelivery({ deliveryId }));
    const first = await client.next();
    expect(first.head).toEqual(answerHead('HTTP/1.1 202 Accepted', QUEUED));
    expect(first.body).toBe(QUEUED);
    const date = first.headers.get('date')!;
    expect(date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(2000);
    expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    const job = await g.queues.intake.getJob(`delivery-${deliveryId}`);
    expect(job?.data).toMatchObject({ deliveryId, kind: 'command', event: 'issue_comment' });

    await client.write(rawDelivery({ deliveryId }));
    const again = await client.next();
    expect(again.head).toEqual(answerHead('HTTP/1.1 200 OK', DUPLICATE));
    expect(again.body).toBe(DUPLICATE);
    expect(client.leftover()).toBe('');
    expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    expect(g.nodeRequests()).toBe(0);
  });

  it('answers a bad signature 401 on the lane and stores nothing', async () => {
    g = await startLaneGateway();
    const answer = await ask(g.lane.port, rawDelivery({ signBody: COMMAND.replace('alice', 'mallory') }));
    const body = '{"error":"signature does not match"}';
    expect(answer.head).toEqual(answerHead('HTTP/1.1 401 Unauthorized', body));
    expect(answer.body).toBe(body);
    expect(await g.jobIds()).toEqual([]);
    expect(g.nodeRequests()).toBe(0);
  });

  it('answers a Connection: close delivery with Connection: close, then closes the connection', async () => {
    g = await startLaneGateway();
    const deliveryId = randomUUID();
    const client = await openRaw(g.lane.port);
    // A second request after the one that asked to close is never read.
    await client.write(
      Buffer.concat([rawDelivery({ deliveryId, extra: ['Connection: close'] }), rawDelivery()]),
    );
    const answer = await client.next();
    expect(answer.head).toEqual(answerHead('HTTP/1.1 202 Accepted', QUEUED, ['Connection: close']));
    await client.serverClosed();
    expect(client.leftover()).toBe('');
    expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    expect(g.nodeRequests()).toBe(0);
  });

  describe('a request split at awkward byte boundaries', () => {
    const cases: Array<[string, (request: Buffer, headEnd: number) => number[]]> = [
      ['in the request line', () => [4]],
      ['in the middle of a header name', (r) => [r.indexOf('X-GitHub-Ev') + 5]],
      ['in the middle of a header value', (r) => [r.indexOf('X-Hub-Signature-256') + 30]],
      ['between CR and LF of a header line', (r) => [r.indexOf('\r\nAccept') + 1]],
      ['inside the blank line', (_r, end) => [end + 1, end + 2, end + 3]],
      ['exactly between head and body', (_r, end) => [end + 4]],
      ['one byte into the body', (_r, end) => [end + 5]],
      ['before the last body byte', (r) => [r.length - 1]],
      ['head in 7-byte pieces', (_r, end) => Array.from({ length: Math.ceil(end / 7) }, (_, i) => i * 7)],
      [
        'body in 16-byte pieces',
        (r, end) => Array.from({ length: Math.ceil((r.length - end) / 16) }, (_, i) => end + 4 + i * 16),
      ],
    ];
    it.each(cases)('still answers once, correctly: %s', async (_case, cutsFor) => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const request = rawDelivery({ deliveryId });
      const client = await openRaw(g.lane.port);
      await client.writeInPieces(request, cutsFor(request, request.indexOf('\r\n\r\n')));
      const answer = await client.next();
      expect([answer.status, answer.body]).toEqual([202, QUEUED]);
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
      // Nothing more comes: one request, one answer.
      await pause(20);
      expect(client.leftover()).toBe('');
      expect(g.nodeRequests()).toBe(0);
    });

    it('answers two pipelined deliveries cut at any points, once each and in order', async () => {
      g = await startLaneGateway();
      const gateway = g;
      const sample = Buffer.concat([rawDelivery(), rawDelivery({ body: IGNORED })]);
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: sample.length - 1 }), { maxLength: 5 }),
          async (cuts) => {
            const accepted = randomUUID();
            const request = Buffer.concat([
              rawDelivery({ deliveryId: accepted }),
              rawDelivery({ body: IGNORED }),
            ]);
            expect(request.length).toBe(sample.length);
            const client = await openRaw(gateway.lane.port);
            try {
              await client.writeInPieces(request, cuts);
              const [first, second] = await client.responses(2);
              expect([first!.status, first!.body]).toEqual([202, QUEUED]);
              expect(second!.status).toBe(200);
              expect(JSON.parse(second!.body)).toMatchObject({ status: 'ignored' });
              expect((await gateway.jobIds()).at(-1)).toBe(`delivery-${accepted}`);
            } finally {
              client.socket.destroy();
            }
          },
        ),
        { numRuns: 30 },
      );
      expect(await g.jobIds()).toHaveLength(30);
      expect(g.nodeRequests()).toBe(0);
    });
  });

  describe('pipelining', () => {
    it('answers three deliveries written at once in request order, and stores three jobs', async () => {
      g = await startLaneGateway();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const client = await openRaw(g.lane.port);
      await client.write(Buffer.concat(ids.map((deliveryId) => rawDelivery({ deliveryId }))));
      const answers = await client.responses(3);
      expect(answers.map((a) => [a.status, a.body])).toEqual([
        [202, QUEUED],
        [202, QUEUED],
        [202, QUEUED],
      ]);
      expect(answers.map((a) => a.head)).toEqual(Array(3).fill(answerHead('HTTP/1.1 202 Accepted', QUEUED)));
      expect(await g.jobIds()).toEqual(ids.map((id) => `delivery-${id}`));
      expect(client.leftover()).toBe('');
      expect(g.nodeRequests()).toBe(0);
    });

    it('keeps request order when a later answer is ready first', async () => {
      g = await startLaneGateway();
      const stored = randomUUID();
      const client = await openRaw(g.lane.port);
      // The first waits for Redis; the ignored comment and the bad signature are answered at once.
      await client.write(
        Buffer.concat([
          rawDelivery({ deliveryId: stored }),
          rawDelivery({ body: IGNORED }),
          rawDelivery({ signBody: 'something else' }),
          rawDelivery({ deliveryId: stored }),
        ]),
      );
      const answers = await client.responses(4);
      expect(answers.map((a) => a.status)).toEqual([202, 200, 401, 200]);
      expect(answers[0]!.body).toBe(QUEUED);
      expect(JSON.parse(answers[1]!.body)).toMatchObject({ status: 'ignored' });
      expect(answers[2]!.body).toBe('{"error":"signature does not match"}');
      expect(answers[3]!.body).toBe(DUPLICATE);
      expect(await g.jobIds()).toEqual([`delivery-${stored}`]);
    });
  });

  describe('handing the connection to node', () => {
    it('serves a delivery on the lane, then a GET /healthz on the same connection through node', async () => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const client = await openRaw(g.lane.port);
      await client.write(rawDelivery({ deliveryId }));
      expect((await client.next()).status).toBe(202);
      expect(g.nodeRequests()).toBe(0);
      await client.write(HEALTHZ);
      const health = await client.next();
      expect([health.status, JSON.parse(health.body)]).toEqual([200, { status: 'ok' }]);
      expect(g.nodeRequests()).toBe(1);
      // Every later request on that connection is node's.
      await client.write(rawDelivery());
      expect((await client.next()).status).toBe(202);
      expect(g.nodeRequests()).toBe(2);
      expect(await g.jobIds()).toHaveLength(2);
    });

    it('answers a delivery and a GET /healthz pipelined in one write, in order', async () => {
      g = await startLaneGateway();
      const client = await openRaw(g.lane.port);
      await client.write(Buffer.concat([rawDelivery(), Buffer.from(HEALTHZ), rawDelivery()]));
      const answers = await client.responses(3);
      expect(answers.map((a) => a.status)).toEqual([202, 200, 202]);
      expect(answers[1]!.body).toBe('{"status":"ok"}');
      expect(g.nodeRequests()).toBe(2);
      expect(await g.jobIds()).toHaveLength(2);
    });

    it('lets node serve a connection whose first request is a GET /healthz, deliveries included', async () => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const client = await openRaw(g.lane.port);
      await client.write(HEALTHZ);
      expect((await client.next()).status).toBe(200);
      await client.write(rawDelivery({ deliveryId }));
      const answer = await client.next();
      expect(answer.head).toEqual(answerHead('HTTP/1.1 202 Accepted', QUEUED));
      expect(g.nodeRequests()).toBe(2);
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });

    it('hands node the requests that arrive while the lane still owes an answer, in order', async () => {
      held = await startPausableRedis();
      g = await startLaneGateway({ redisUrl: held.url });
      const client = await openRaw(g.lane.port);
      // Redis frozen: the delivery's answer is owed while the GETs arrive, in two reads.
      held.pause();
      await client.write(Buffer.concat([rawDelivery(), Buffer.from(HEALTHZ)]));
      await pause(30);
      await client.write('GET /missing HTTP/1.1\r\nHost: gateway.example\r\n\r\n');
      await pause(30);
      expect(client.leftover()).toBe('');
      held.resume();
      const answers = await client.responses(3);
      expect(answers.map((a) => [a.status, JSON.parse(a.body) as unknown])).toEqual([
        [202, JSON.parse(QUEUED)],
        [200, { status: 'ok' }],
        [404, { error: 'not found' }],
      ]);
      expect(g.nodeRequests()).toBe(2);
    });

    it('stores a chunked delivery through node', async () => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const chunked = `7\r\n${COMMAND.slice(0, 7)}\r\n${(COMMAND.length - 7).toString(16)}\r\n${COMMAND.slice(7)}\r\n0\r\n\r\n`;
      const client = await openRaw(g.lane.port);
      await client.write(
        rawDelivery({
          deliveryId,
          sent: chunked,
          omit: ['content-length'],
          extra: ['Transfer-Encoding: chunked'],
        }),
      );
      const answer = await client.next();
      expect([answer.status, answer.body]).toEqual([202, QUEUED]);
      expect(g.nodeRequests()).toBe(1);
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });

    it('serves an Expect: 100-continue delivery through node (100 first, then 202)', async () => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const request = rawDelivery({ deliveryId, extra: ['Expect: 100-continue'] });
      const headEnd = request.indexOf('\r\n\r\n') + 4;
      const client = await openRaw(g.lane.port);
      await client.write(request.subarray(0, headEnd));
      const interim = await client.next();
      expect(interim.head).toEqual(['HTTP/1.1 100 Continue']);
      await client.write(request.subarray(headEnd));
      expect((await client.next()).status).toBe(202);
      expect(g.nodeRequests()).toBe(1);
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });

    it('refuses a declared oversize body with 413 and closes, before the body arrives', async () => {
      g = await startLaneGateway();
      const client = await openRaw(g.lane.port);
      await client.write(
        rawDelivery({
          sent: 'a'.repeat(1024),
          omit: ['content-length'],
          extra: [`Content-Length: ${MAX_WEBHOOK_BYTES + 1}`],
        }),
      );
      const answer = await client.next();
      const body = JSON.stringify({ error: `body exceeds ${MAX_WEBHOOK_BYTES} bytes` });
      // Node's fast path answers (gateway-listener.ts `send`): its own header order.
      expect(answer.head).toEqual([
        'HTTP/1.1 413 Payload Too Large',
        'content-type: application/json',
        `content-length: ${body.length}`,
        'connection: close',
        'Date: <date>',
      ]);
      expect(answer.body).toBe(body);
      await client.serverClosed();
      expect(g.nodeRequests()).toBe(1);
      expect(await g.jobIds()).toEqual([]);
    });
  });

  /**
   * What node answers requests its parser refuses or judges differently; the lane must hand each
   * of them over, so the answer on the lane's server is node's own, byte for byte (the `Date` aside).
   */
  describe('requests node judges', () => {
    const pad = Array.from({ length: 1100 }, (_, i) => `X-Pad-${i}: 1`);
    const cases: Array<[string, RawDelivery, number]> = [
      ['a repeated Content-Length', { extra: [`Content-Length: ${Buffer.byteLength(COMMAND)}`] }, 400],
      ['no Host', { omit: ['host'] }, 400],
      ['a head over 16 kB', { extra: [`X-Pad: ${'a'.repeat(17 * 1024)}`] }, 431],
      ['DEL in a header value', { extra: ['X-Note: a\x7fb'] }, 400],
      ['a folded header line', { extra: ['X-Note: a', ' b'] }, 400],
      ['a space before a colon', { extra: ['X-Note : a'] }, 400],
      ['a control character in the query', { requestLine: 'POST /webhooks/github?a\x01b HTTP/1.1' }, 400],
      ['a non-ASCII byte in the query', { requestLine: 'POST /webhooks/github?caf\xe9 HTTP/1.1' }, 400],
      ['DEL in the query', { requestLine: 'POST /webhooks/github?a\x7f HTTP/1.1' }, 400],
      // Node reads a limited number of header lines and drops the rest (here: every GitHub header).
      [
        'GitHub headers after 1100 other lines',
        { before: ['Host: gateway.example', ...pad], omit: ['host'] },
        401,
      ],
    ];
    it.each(cases)('answers %s as node does', async (_case, d, status) => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const viaNode = await ask(g.node.port, rawDelivery({ ...d, deliveryId }));
      const viaLane = await ask(g.lane.port, rawDelivery({ ...d, deliveryId }));
      expect(viaNode.status).toBe(status);
      expect(comparable(viaLane)).toEqual(comparable(viaNode));
      expect(await g.jobIds()).toEqual([]);
    });
  });

  describe('closing', () => {
    // Node's own server (httpAllowHalfOpen off) drops the request and closes at a half-close; the
    // lane answers what it owes first, then closes (webhook-lane.ts `onEnd`).
    it('answers a client that half-closes with its delivery, then closes the connection', async () => {
      held = await startPausableRedis();
      g = await startLaneGateway({ redisUrl: held.url });
      const deliveryId = randomUUID();
      const client = await openRaw(g.lane.port);
      // Redis frozen: the FIN is read while the answer is still owed.
      held.pause();
      client.socket.end(rawDelivery({ deliveryId }));
      await pause(50);
      held.resume();
      const answer = await client.next();
      expect([answer.status, answer.body]).toEqual([202, QUEUED]);
      await client.serverClosed(1000);
      expect(g.nodeRequests()).toBe(0);
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });

    it('closes the connection when an idle client half-closes after its answer', async () => {
      g = await startLaneGateway();
      const client = await openRaw(g.lane.port);
      await client.write(rawDelivery());
      expect((await client.next()).status).toBe(202);
      client.socket.end();
      await client.serverClosed(1000);
    });

    // Node answers nothing once a client half-closes. The lane answers the deliveries it owes; a
    // request behind them that node would have to take over after the FIN goes unanswered, and
    // the connection closes cleanly (webhook-lane.ts `toNode`).
    it('answers the delivery of a pipeline that ends in a half-close, then closes the connection', async () => {
      held = await startPausableRedis();
      g = await startLaneGateway({ redisUrl: held.url });
      const deliveryId = randomUUID();
      const client = await openRaw(g.lane.port);
      held.pause();
      client.socket.end(Buffer.concat([rawDelivery({ deliveryId }), Buffer.from(HEALTHZ)]));
      await pause(50);
      held.resume();
      const answer = await client.next();
      expect([answer.status, answer.body]).toEqual([202, QUEUED]);
      await client.serverClosed(1000);
      expect(client.leftover()).toBe('');
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });

    it('closes the server promptly with an idle keep-alive lane connection open', async () => {
      g = await startLaneGateway();
      const lane = await openRaw(g.lane.port);
      await lane.write(rawDelivery());
      expect((await lane.next()).status).toBe(202);
      const handed = await openRaw(g.lane.port);
      await handed.write(HEALTHZ);
      expect((await handed.next()).status).toBe(200);
      const started = performance.now();
      await new Promise<void>((resolve, reject) =>
        g!.lane.server.close((err) => (err ? reject(err) : resolve())),
      );
      expect(performance.now() - started).toBeLessThan(1000);
      await lane.serverClosed();
      await handed.serverClosed();
    });

    it("lets the harness's close() finish promptly with an idle keep-alive lane connection open", async () => {
      const h = await startGateway(redisUrl);
      let running = true;
      try {
        const client = await openRaw(Number(new URL(h.url).port));
        await client.write(rawDelivery());
        expect((await client.next()).status).toBe(202);
        const started = performance.now();
        await h.close();
        running = false;
        expect(performance.now() - started).toBeLessThan(1000);
        await client.serverClosed();
      } finally {
        if (running) await h.close();
      }
    });

    it('closes idle lane connections on closeIdleConnections, and every one on closeAllConnections', async () => {
      g = await startLaneGateway();
      const idle = await openRaw(g.lane.port);
      await idle.write(rawDelivery());
      expect((await idle.next()).status).toBe(202);
      const busy = await openRaw(g.lane.port);
      const request = rawDelivery();
      await busy.write(request.subarray(0, 100));
      await pause(20);
      g.lane.server.closeIdleConnections();
      await idle.serverClosed();
      // A request under way is not idle: it is still served.
      await busy.write(request.subarray(100, 200));
      await pause(20);
      g.lane.server.closeIdleConnections();
      await busy.write(request.subarray(200));
      expect((await busy.next()).status).toBe(202);
      await busy.write(request.subarray(0, 100));
      await pause(20);
      g.lane.server.closeAllConnections();
      await busy.serverClosed();
    });

    it('finishes a request under way when the server closes, answering it Connection: close', async () => {
      g = await startLaneGateway();
      const deliveryId = randomUUID();
      const request = rawDelivery({ deliveryId });
      const client = await openRaw(g.lane.port);
      await client.write(request.subarray(0, 100));
      await pause(20);
      const closed = new Promise<void>((resolve, reject) =>
        g!.lane.server.close((err) => (err ? reject(err) : resolve())),
      );
      await pause(20);
      await client.write(request.subarray(100));
      const answer = await client.next();
      expect(answer.head).toEqual(answerHead('HTTP/1.1 202 Accepted', QUEUED, ['Connection: close']));
      await client.serverClosed();
      await closed;
      expect(await g.jobIds()).toEqual([`delivery-${deliveryId}`]);
    });
  });

  describe("node's timeouts, on the lane", () => {
    it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
      g = await startLaneGateway({
        lane: { keepAliveMs: 200, headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
      });
      const client = await openRaw(g.lane.port);
      await client.write(rawDelivery());
      expect((await client.next()).status).toBe(202);
      const idle = performance.now();
      await client.serverClosed(1500);
      expect(performance.now() - idle).toBeGreaterThanOrEqual(150);
    });

    it('answers 408 and closes when a head is too slow to arrive', async () => {
      g = await startLaneGateway({
        lane: { keepAliveMs: 5000, headersTimeoutMs: 150, requestTimeoutMs: 5000 },
      });
      const client = await openRaw(g.lane.port);
      await client.write(rawDelivery().subarray(0, 60));
      await client.serverClosed(1500);
      const answer = await client.next();
      expect(answer.head).toEqual(['HTTP/1.1 408 Request Timeout', 'Connection: close']);
      expect(await g.jobIds()).toEqual([]);
    });

    it('answers 408 and closes when a body is too slow to arrive', async () => {
      g = await startLaneGateway({
        lane: { keepAliveMs: 5000, headersTimeoutMs: 150, requestTimeoutMs: 300 },
      });
      const client = await openRaw(g.lane.port);
      const request = rawDelivery();
      await client.write(request.subarray(0, request.indexOf('\r\n\r\n') + 10));
      await pause(200);
      // The head arrived in time: no answer yet.
      expect(client.leftover()).toBe('');
      await client.serverClosed(1500);
      expect((await client.next()).status).toBe(408);
      expect(await g.jobIds()).toEqual([]);
    });
  });
});

describe('the lane answers as node does', () => {
  it('gives every delivery the status, body and head node gives it', async () => {
    g = await startLaneGateway();
    const stored = randomUUID();
    expect((await ask(g.lane.port, rawDelivery({ deliveryId: stored }))).status).toBe(202);
    const cases: Array<[string, RawDelivery]> = [
      ['accepted', {}],
      ['duplicate', { deliveryId: stored }],
      ['ignored comment', { body: IGNORED }],
      ['bad signature', { signBody: `${COMMAND} ` }],
      ['unrouted event', { event: 'gollum', body: '{"pages":[]}' }],
      ['invalid JSON', { body: '{"action":' }],
      ['JSON array', { body: '[]' }],
      ['empty body', { body: '' }],
      ['wrong content type', { omit: ['content-type'], extra: ['Content-Type: text/plain'] }],
      ['no delivery id', { omit: ['x-github-delivery'] }],
      ['no signature', { omit: ['x-hub-signature-256'] }],
      ['a query string', { requestLine: 'POST /webhooks/github?source=proxy HTTP/1.1' }],
      ['Connection: close', { extra: ['Connection: close'] }],
      ['a padded event value', { omit: ['x-github-event'], extra: ['X-GitHub-Event: \t issue_comment '] }],
    ];
    for (const [name, d] of cases) {
      const fresh = (): RawDelivery => ({ ...d, deliveryId: d.deliveryId ?? randomUUID() });
      const viaNode = await ask(g.node.port, rawDelivery(fresh()));
      const viaLane = await ask(g.lane.port, rawDelivery(fresh()));
      expect({ name, ...comparable(viaLane) }).toEqual({ name, ...comparable(viaNode) });
    }
    expect(g.nodeRequests()).toBe(0);
    // The first delivery, then four cases that store a job, on each server.
    expect(await g.jobIds()).toHaveLength(1 + 4 * 2);
  });
});
