import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmeeChannel {
  /** The channel URL, as `https://smee.io/<id>` would be. */
  readonly url: string;
  /** Resolves once a client has the event stream open. */
  readonly connected: Promise<void>;
  /**
   * Sends one delivery the way smee.io relays what GitHub POSTed to the channel: one server-sent
   * `message` whose JSON data holds the request's headers (lower-case), `body` (parsed) and `query`.
   */
  relay(headers: Record<string, string>, body: unknown): void;
  close(): Promise<void>;
}

/** A local stand-in for a smee.io channel (`text/event-stream`, smee's message format). */
export async function startSmeeChannel(): Promise<SmeeChannel> {
  const clients = new Set<ServerResponse>();
  let onConnect: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.headers.accept !== 'text/event-stream') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // smee.io greets a new client with a `ready` event before any delivery.
    res.write('event: ready\ndata: {}\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    onConnect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/channel-test`,
    connected,
    relay(headers, body) {
      const data = JSON.stringify({ ...headers, body, query: {}, timestamp: Date.now() });
      for (const c of clients) c.write(`id: ${Date.now()}\ndata: ${data}\n\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
