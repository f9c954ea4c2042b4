import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A unix-socket HTTP proxy in front of the real Docker engine that can leave exec starts or
 * container removals unanswered, as a stalled engine does (an exec start that raced its container's
 * removal, moby#41657): the request is read, never forwarded, never answered, and its connection
 * stays open until the client gives up. Everything else reaches the real engine unchanged,
 * upgrades (hijacked exec streams) included.
 */
export interface StallingDocker {
  /** Point dockerode here: `new Docker({ socketPath })`. */
  readonly socketPath: string;
  /** The next `n` exec starts are held, not forwarded. */
  holdExecStarts(n: number): void;
  /** The next `n` container removals (`DELETE /containers/…`) are held, not forwarded. */
  holdRemovals(n: number): void;
  /** The next `n` container creates (`POST /containers/create`) are held, not forwarded. */
  holdCreates(n: number): void;
  /** The next `n` container starts (`POST /containers/…/start`) are held, not forwarded. */
  holdContainerStarts(n: number): void;
  /** Exec starts seen so far, held or forwarded. */
  readonly execStarts: number;
  /** Requests held so far. */
  readonly held: number;
  /** Held requests whose connection the client has since closed. */
  readonly heldClosed: number;
  close(): Promise<void>;
}

const ENGINE = '/var/run/docker.sock';
const EXEC_START = /^\/(?:v[\d.]+\/)?exec\/[0-9a-f]+\/start(?:\?|$)/;
const CONTAINER = /^\/(?:v[\d.]+\/)?containers\/[0-9a-f]+(?:\?|$)/;
const CREATE = /^\/(?:v[\d.]+\/)?containers\/create(?:\?|$)/;
const CONTAINER_START = /^\/(?:v[\d.]+\/)?containers\/[0-9a-f]+\/start(?:\?|$)/;

export async function startStallingDocker(): Promise<StallingDocker> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-stall-docker-'));
  const socketPath = join(dir, 'docker.sock');
  let toHold = 0;
  let removalsToHold = 0;
  let createsToHold = 0;
  let containerStartsToHold = 0;
  let execStarts = 0;
  let held = 0;
  let heldClosed = 0;
  const sockets = new Set<Socket>();

  /** Whether this request is one to hold; if so it is counted and its connection watched. */
  const hold = (req: IncomingMessage): boolean => {
    const url = req.url ?? '';
    if (req.method === 'DELETE' && CONTAINER.test(url) && removalsToHold > 0) removalsToHold--;
    else if (req.method === 'POST' && CREATE.test(url) && createsToHold > 0) createsToHold--;
    else if (req.method === 'POST' && CONTAINER_START.test(url) && containerStartsToHold > 0)
      containerStartsToHold--;
    else if (req.method === 'POST' && EXEC_START.test(url)) {
      execStarts++;
      if (toHold === 0) return false;
      toHold--;
    } else return false;
    held++;
    // Read (and drop) whatever comes, so the client's close is seen (an upgrade's socket is
    // paused), and close our side then: the server's sockets are half-open.
    const socket = req.socket;
    socket.once('close', () => heldClosed++);
    socket.once('end', () => socket.destroy());
    socket.on('data', () => undefined);
    socket.resume();
    return true;
  };

  const server: Server = createServer((req, res) => {
    if (hold(req)) return;
    const upstream = request(
      { socketPath: ENGINE, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // Hijacked exec starts: replay the head on a raw engine connection, then splice the two sockets.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (hold(req)) return;
    const engine = connect(ENGINE);
    sockets.add(engine);
    engine.once('close', () => sockets.delete(engine));
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    engine.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) engine.write(head);
    engine.pipe(client).on('error', () => engine.destroy());
    client.pipe(engine).on('error', () => client.destroy());
    engine.on('error', () => client.destroy());
    client.on('error', () => engine.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    socketPath,
    holdExecStarts: (n) => void (toHold = n),
    holdRemovals: (n) => void (removalsToHold = n),
    holdCreates: (n) => void (createsToHold = n),
    holdContainerStarts: (n) => void (containerStartsToHold = n),
    get execStarts() {
      return execStarts;
    },
    get held() {
      return held;
    },
    get heldClosed() {
      return heldClosed;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
