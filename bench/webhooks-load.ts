/**
 * A lean closed-loop load generator for bench/webhooks.ts: one raw `net.Socket` per connection,
 * keep-alive, one request in flight per connection (GitHub does not pipeline). Each request is a
 * pre-encoded HTTP/1.1 head (only the delivery id changes) written together with a pre-signed body
 * buffer; answers are counted by parsing the status line and skipping the body by its
 * `Content-Length` (or chunked encoding). It exists because autocannon, on the same two cores,
 * spends enough CPU per request to be the ceiling of the saturation phase (bench/README.md).
 */
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';

export interface SignedBody {
  readonly body: Buffer;
  readonly signature: string;
}

export interface RawLoadOutcome {
  /** Requests written. */
  readonly sent: number;
  /** Delivery indexes answered 2xx. */
  readonly ok: Uint8Array;
  readonly accepted: number;
  readonly non2xx: number;
  /** Requests written but never answered (connection closed or still in flight at the end). */
  readonly errors: number;
  readonly seconds: number;
}

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown>>;
}

/**
 * `count` signed copies of the real `issue_comment.created` payload from @octokit/webhooks-examples,
 * made a droid command (`/droid status`), each with its own comment id.
 */
export function signedBodies(count: number, secret: string): SignedBody[] {
  const groups = createRequire(import.meta.url)(
    '@octokit/webhooks-examples/api.github.com/index.json',
  ) as ExampleGroup[];
  const example = groups
    .find((g) => g.name === 'issue_comment')
    ?.examples.find((e) => e.action === 'created' && e.installation !== undefined);
  if (!example) throw new Error('no issue_comment.created example in @octokit/webhooks-examples');
  const comment = example.comment as Record<string, unknown>;
  return Array.from({ length: count }, (_, i) => {
    const body = Buffer.from(
      JSON.stringify({ ...example, comment: { ...comment, id: 1_000_000 + i, body: '/droid status' } }),
    );
    return { body, signature: `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
  });
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

/** Pre-encoded request heads, one per body: `${pre}${deliveryId}${post}` then the body's bytes. */
function requestHeads(
  target: URL,
  path: string,
  bodies: readonly SignedBody[],
): Array<readonly [pre: string, post: string]> {
  return bodies.map(
    (b) =>
      [
        `POST ${path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
          `User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: issue_comment\r\n` +
          `X-Hub-Signature-256: ${b.signature}\r\nContent-Length: ${b.body.length}\r\nX-GitHub-Delivery: `,
        '\r\n\r\n',
      ] as const,
  );
}

/**
 * Feeds a connection's bytes in and calls `onAnswer(status)` once per complete answer (the body
 * skipped by its `Content-Length`, or chunked encoding).
 */
function answerReader(onAnswer: (status: number) => void): (chunk: Buffer) => void {
  let buf: Buffer | undefined;
  return (chunk) => {
    buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
    while (buf !== undefined && buf.length > 0) {
      const headEnd = buf.indexOf(CRLF2);
      if (headEnd < 0) return;
      const head = buf.toString('latin1', 0, headEnd);
      const status = Number(head.slice(9, 12));
      const lower = head.toLowerCase();
      let end: number;
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
      if (cl) {
        end = headEnd + 4 + Number(cl[1]);
        if (buf.length < end) return;
      } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
        const tail = buf.indexOf(CHUNKED_END, headEnd + 2);
        if (tail < 0) return;
        end = tail + CHUNKED_END.length;
      } else end = headEnd + 4;
      buf = end >= buf.length ? undefined : buf.subarray(end);
      onAnswer(status);
    }
  };
}

/**
 * Sends signed `issue_comment` deliveries over `connections` sockets for `seconds`, then waits up to
 * 2 s for the answers in flight. Request `i` carries delivery id `deliveryId(i)` and body
 * `bodies[i % bodies.length]`; `ok[i]` is set when it is answered 2xx.
 */
export function saturateRaw(
  url: string,
  path: string,
  bodies: readonly SignedBody[],
  deliveryId: (i: number) => string,
  load: { connections: number; seconds: number },
): Promise<RawLoadOutcome> {
  const target = new URL(url);
  const port = Number(target.port);
  const host = target.hostname;
  const heads = requestHeads(target, path, bodies);
  const ok = new Uint8Array(4_000_000);
  let next = 0;
  let accepted = 0;
  let non2xx = 0;
  let answered = 0;
  let stopping = false;
  const started = performance.now();
  let lastAnswer = started;

  return new Promise((resolve) => {
    const sockets = new Set<Socket>();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const s of sockets) s.destroy();
      resolve({
        sent: next,
        ok,
        accepted,
        non2xx,
        errors: next - answered,
        seconds: (Math.max(lastAnswer, started + load.seconds * 1000) - started) / 1000,
      });
    };
    const maybeFinish = (): void => {
      if (stopping && answered === next) finish();
    };

    const open = (): void => {
      if (stopping) return;
      const socket = connect({ host, port, noDelay: true });
      sockets.add(socket);
      let current = -1;

      const send = (): void => {
        if (stopping) {
          current = -1;
          socket.end();
          return;
        }
        const i = next++;
        current = i;
        const b = i % bodies.length;
        const [pre, post] = heads[b]!;
        socket.cork();
        socket.write(`${pre}${deliveryId(i)}${post}`, 'latin1');
        socket.write(bodies[b]!.body);
        socket.uncork();
      };

      const read = answerReader((status) => {
        const i = current;
        current = -1;
        if (i < 0) return;
        answered++;
        lastAnswer = performance.now();
        if (status >= 200 && status < 300) {
          if (ok[i] === 0) {
            ok[i] = 1;
            accepted++;
          }
        } else non2xx++;
        send();
      });

      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        read(chunk);
        maybeFinish();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        // The request in flight is counted unanswered (errors); a new connection takes over.
        if (current >= 0) current = -1;
        if (!stopping) open();
        else maybeFinish();
      });
    };

    for (let c = 0; c < load.connections; c++) open();
    setTimeout(() => {
      stopping = true;
      maybeFinish();
      setTimeout(finish, 2000).unref();
    }, load.seconds * 1000);
  });
}

export interface PacedOutcome extends RawLoadOutcome {
  /** Request-to-2xx latencies in ms, from the write of the request to the end of its answer. */
  readonly latencies: number[];
  /** When each of those requests was written, in ms since the phase began (same order). */
  readonly sentAt: number[];
}

/**
 * Open loop at `rate` deliveries/s for `seconds` on raw keep-alive sockets, one request in flight
 * per connection (as GitHub sends): a request due finds an idle connection or opens a new one, so a
 * slow answer never delays the next request. Latency runs from the write of the request to the last
 * byte of its answer. Answers still missing 5 s after the last request count as errors.
 *
 * The same lean client as {@link saturateRaw}: node's `http.request` spends about as much CPU per
 * request as the gateway does per delivery, in the same two cores, and its own event-loop delays
 * land in the latencies it measures (bench/README.md).
 */
export function pacedRaw(
  url: string,
  path: string,
  bodies: readonly SignedBody[],
  deliveryId: (i: number) => string,
  load: { rate: number; seconds: number },
): Promise<PacedOutcome> {
  const target = new URL(url);
  const port = Number(target.port);
  const host = target.hostname;
  const heads = requestHeads(target, path, bodies);
  const total = load.rate * load.seconds;
  const ok = new Uint8Array(total);
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let sent = 0;
  let answered = 0;
  let accepted = 0;
  let non2xx = 0;
  let dropped = 0;
  const started = performance.now();

  interface Connection {
    readonly socket: Socket;
    /** The delivery in flight on it, or -1. */
    current: number;
    sentAt: number;
  }
  const idle: Connection[] = [];
  const all = new Set<Connection>();

  return new Promise((resolve) => {
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      for (const c of all) c.socket.destroy();
      resolve({
        sent,
        ok,
        accepted,
        non2xx,
        errors: sent - answered,
        seconds: (performance.now() - started) / 1000,
        latencies,
        sentAt,
      });
    };
    const settle = (): void => {
      if (sent === total && answered + dropped === total) finish();
    };

    const write = (c: Connection, i: number): void => {
      c.current = i;
      const b = i % bodies.length;
      const [pre, post] = heads[b]!;
      c.sentAt = performance.now();
      c.socket.cork();
      c.socket.write(`${pre}${deliveryId(i)}${post}`, 'latin1');
      c.socket.write(bodies[b]!.body);
      c.socket.uncork();
    };

    const open = (first: number): void => {
      const socket = connect({ host, port, noDelay: true });
      const c: Connection = { socket, current: first, sentAt: 0 };
      all.add(c);
      const read = answerReader((status) => {
        const i = c.current;
        if (i < 0) return;
        c.current = -1;
        if (status >= 200 && status < 300) {
          latencies.push(performance.now() - c.sentAt);
          sentAt.push(c.sentAt - started);
          ok[i] = 1;
          accepted++;
        } else non2xx++;
        answered++;
        idle.push(c);
        settle();
      });
      socket.on('connect', () => write(c, first));
      socket.on('data', read);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        all.delete(c);
        const at = idle.indexOf(c);
        if (at >= 0) idle.splice(at, 1);
        // The request in flight is counted unanswered (errors).
        if (c.current >= 0) {
          c.current = -1;
          dropped++;
          settle();
        }
      });
    };

    const send = (i: number): void => {
      const c = idle.pop();
      if (c) write(c, i);
      else open(i);
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * load.rate) / 1000));
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
      else drainTimer = setTimeout(finish, 5000);
    };
    tick();
  });
}
