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
  const heads = bodies.map(
    (b) =>
      [
        `POST ${path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
          `User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: issue_comment\r\n` +
          `X-Hub-Signature-256: ${b.signature}\r\nContent-Length: ${b.body.length}\r\nX-GitHub-Delivery: `,
        '\r\n\r\n',
      ] as const,
  );
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
      let buf: Buffer | undefined;

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

      /** One answer complete in `buf` at `[0, end)`: count it, keep the rest. */
      const parse = (): void => {
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
          const i = current;
          current = -1;
          if (i < 0) continue;
          answered++;
          lastAnswer = performance.now();
          if (status >= 200 && status < 300) {
            if (ok[i] === 0) {
              ok[i] = 1;
              accepted++;
            }
          } else non2xx++;
          send();
        }
        maybeFinish();
      };

      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
        parse();
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
