// @ts-check
/**
 * The egress proxy a sandbox with `network.allow` reaches the outside through. Plain JavaScript on
 * Node's built-ins only: it runs inside the runner image (Node 18+), copied into the
 * `droidworks/egress-proxy` image (see `egress-image.ts`), as `nobody` on the run's internal network
 * and the operator's egress network.
 *
 * It lets through HTTP CONNECT (HTTPS and any TLS) and plain HTTP (by the absolute URL or `Host`)
 * to hosts matching an allowed entry, resolves the name itself, and connects to the address it
 * resolved (no second lookup to rebind). A name resolving to a loopback, private, link-local,
 * metadata or otherwise special-purpose address is refused, unless the operator pinned that name
 * (`DROIDWORKS_EGRESS_HOSTS`) or the allowed entry is literally that address. Every refusal is
 * written as one JSON line on stdout (the worker logs it) and answered with 403 and the reason.
 *
 * Environment: `EGRESS_ALLOW` (JSON array of `.droidworks.yml` `network.allow` entries),
 * `EGRESS_PINNED` (JSON object name → address), `EGRESS_DENY` (JSON array of extra addresses to
 * refuse, e.g. the worker's own), `EGRESS_PORT` (default 3128).
 */
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest } from 'node:http';
import { BlockList, connect, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pathToFileURL } from 'node:url';

/** Special-purpose ranges (IANA registries): never reached by a name, only by a literal entry or a pin. */
const RESTRICTED = /** @type {ReadonlyArray<[string, number, 'ipv4' | 'ipv6', string]>} */ ([
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'special-purpose'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.88.99.0', 24, 'ipv4', 'relay'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped'],
  ['64:ff9b::', 96, 'ipv6', 'NAT64'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
]);

const blocks = RESTRICTED.map(([net, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, label };
});

/**
 * Why an address must not be reached by name, or `undefined` when it is a global unicast address.
 * @param {string} address
 * @param {readonly string[]} [deny] extra addresses refused (the worker's and the Docker host's own)
 * @returns {string | undefined}
 */
export function restrictedReason(address, deny = []) {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (deny.includes(address)) return 'an address of the droidworks host';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // Only same-family ranges: a BlockList also matches IPv4 addresses against IPv4-mapped IPv6 ranges.
  for (const b of blocks) if (b.family === type && b.list.check(address, type)) return b.label;
  return undefined;
}

/**
 * Lower case, no trailing dot, no IPv6 brackets.
 * @param {string} host
 */
export function normalizeHost(host) {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/**
 * The allowed entry (`host`, `*.domain`, `host:port`) that admits `host:port`, if any. An entry
 * without a port admits 80 and 443; `*.domain` admits subdomains, not `domain` itself, and never
 * an IP address.
 * @param {readonly string[]} allow
 * @param {string} host
 * @param {number} port
 * @returns {string | undefined}
 */
export function matchAllowed(allow, host, port) {
  const h = normalizeHost(host);
  for (const entry of allow) {
    const m = /^(.*?)(?::(\d{1,5}))?$/.exec(entry.trim().toLowerCase());
    if (!m || !m[1]) continue;
    const name = normalizeHost(m[1]);
    const ports = m[2] ? [Number(m[2])] : [80, 443];
    if (!ports.includes(port)) continue;
    if (name.startsWith('*.')) {
      if (isIP(h) === 0 && h.endsWith(name.slice(1))) return entry;
    } else if (name === h) return entry;
  }
  return undefined;
}

/**
 * @typedef {{ readonly allow: readonly string[], readonly pinned: Readonly<Record<string, string>>, readonly deny: readonly string[] }} Policy
 * @typedef {{ ok: true, address: string, via: 'literal' | 'pinned' | 'dns' } | { ok: false, reason: string }} Decision
 */

/**
 * Decides one connection (pure). `addresses` are what the name resolved to; `undefined` asks
 * whether a lookup is needed at all (`'lookup'`: the name is allowed and neither literal nor pinned).
 * @param {Policy} policy
 * @param {string} host
 * @param {number} port
 * @param {readonly string[] | undefined} addresses
 * @returns {Decision | 'lookup'}
 */
export function decideEgress(policy, host, port, addresses) {
  const h = normalizeHost(host);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: 'bad port' };
  if (!matchAllowed(policy.allow, h, port))
    return { ok: false, reason: `${h}:${port} is not in network.allow of .droidworks.yml` };
  if (isIP(h) !== 0) return { ok: true, address: h, via: 'literal' };
  const pin = policy.pinned[h];
  if (pin !== undefined) return { ok: true, address: pin, via: 'pinned' };
  if (addresses === undefined) return 'lookup';
  if (addresses.length === 0) return { ok: false, reason: `${h} does not resolve` };
  for (const a of addresses) {
    const why = restrictedReason(a, policy.deny);
    if (why) return { ok: false, reason: `${h} resolves to ${a} (${why})` };
  }
  return { ok: true, address: /** @type {string} */ (addresses[0]), via: 'dns' };
}

/**
 * @param {Policy} policy
 * @param {string} host
 * @param {number} port
 * @returns {Promise<Decision>}
 */
async function resolveAndDecide(policy, host, port) {
  const first = decideEgress(policy, host, port, undefined);
  if (first !== 'lookup') return first;
  const h = normalizeHost(host);
  let addresses = /** @type {string[]} */ ([]);
  try {
    addresses = (await lookup(h, { all: true, verbatim: true })).map((a) => a.address);
  } catch (err) {
    return { ok: false, reason: `${h} does not resolve (${/** @type {Error} */ (err).message})` };
  }
  const d = decideEgress(policy, h, port, addresses);
  return d === 'lookup' ? { ok: false, reason: 'unresolved' } : d;
}

/** @param {Record<string, unknown>} fields */
function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

/**
 * `host:port` of a CONNECT target or a Host header.
 * @param {string} value
 * @param {number} defaultPort
 */
export function splitHostPort(value, defaultPort) {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim());
  if (!m || !m[1]) return undefined;
  return { host: normalizeHost(m[1]), port: m[2] ? Number(m[2]) : defaultPort };
}

/** A CONNECT target must answer within this; a plain HTTP upstream may stay silent this long. */
const CONNECT_TIMEOUT_MS = 30_000;
const IDLE_TIMEOUT_MS = 120_000;

const HOP_BY_HOP = [
  'proxy-connection',
  'proxy-authorization',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
];

/**
 * Starts the proxy on `listen` addresses.
 * @param {Policy} policy
 * @param {{ port: number, listen: readonly string[] }} options
 */
export async function startEgressProxy(policy, options) {
  /** @type {import('node:http').RequestListener} */
  const onRequest = (req, res) => {
    let target;
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'invalid.'}`);
      if (url.protocol !== 'http:') throw new Error('only http URLs (use CONNECT for https)');
      target = {
        host: normalizeHost(url.hostname),
        port: Number(url.port || 80),
        path: `${url.pathname}${url.search}`,
      };
    } catch (err) {
      refuse(res, req.url ?? '', 0, `bad request: ${/** @type {Error} */ (err).message}`, 400);
      return;
    }
    const t = target;
    void resolveAndDecide(policy, t.host, t.port).then((d) => {
      if (!d.ok) return refuse(res, t.host, t.port, d.reason, 403);
      const headers = { ...req.headers };
      for (const h of HOP_BY_HOP) delete headers[h];
      headers.host = t.port === 80 ? t.host : `${t.host}:${t.port}`;
      const upstream = httpRequest(
        {
          host: d.address,
          port: t.port,
          method: req.method,
          path: t.path,
          headers,
          setHost: false,
          timeout: IDLE_TIMEOUT_MS,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error(`idle for ${IDLE_TIMEOUT_MS} ms`)));
      upstream.on('error', (err) => {
        log({ msg: 'upstream failed', host: t.host, port: t.port, error: err.message });
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`droidworks egress proxy: ${t.host}:${t.port} failed: ${err.message}\n`);
      });
      req.pipe(upstream);
    });
  };

  /** @type {(req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void} */
  const onConnect = (req, socket, head) => {
    const t = splitHostPort(req.url ?? '', 443);
    socket.on('error', () => socket.destroy());
    if (!t) {
      log({ msg: 'refused', target: req.url, reason: 'bad CONNECT target' });
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    void resolveAndDecide(policy, t.host, t.port).then((d) => {
      if (!d.ok) {
        log({ msg: 'refused', host: t.host, port: t.port, reason: d.reason });
        const body = `droidworks egress proxy refused ${t.host}:${t.port}: ${d.reason}\n`;
        socket.end(
          `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      let established = false;
      const upstream = connect({ host: d.address, port: t.port }, () => {
        established = true;
        upstream.setTimeout(0);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.setTimeout(CONNECT_TIMEOUT_MS, () =>
        upstream.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
      );
      upstream.on('error', (err) => {
        log({ msg: 'upstream failed', host: t.host, port: t.port, error: err.message });
        // Before the tunnel: say why; inside it, the client sees the connection end.
        if (!established && socket.writable)
          socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
        else socket.destroy();
      });
      socket.on('close', () => upstream.destroy());
    });
  };

  /**
   * @param {import('node:http').ServerResponse} res
   * @param {string} host
   * @param {number} port
   * @param {string} reason
   * @param {number} status
   */
  function refuse(res, host, port, reason, status) {
    log({ msg: 'refused', host, port, reason });
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`droidworks egress proxy refused ${host}:${port}: ${reason}\n`);
  }

  const servers = [];
  for (const address of options.listen) {
    const server = createServer(onRequest).on('connect', onConnect);
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, address, () => resolve(undefined));
    });
    servers.push(server);
  }
  return servers;
}

/** Non-loopback IPv4 addresses of this container: the run's internal network only, at start. */
function internalAddresses() {
  const out = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  return out;
}

/**
 * @param {string} name
 * @param {unknown} fallback
 */
function jsonEnv(name, fallback) {
  const raw = process.env[name];
  return raw ? JSON.parse(raw) : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const policy = {
    allow: /** @type {string[]} */ (jsonEnv('EGRESS_ALLOW', [])),
    pinned: /** @type {Record<string, string>} */ (jsonEnv('EGRESS_PINNED', {})),
    deny: /** @type {string[]} */ (jsonEnv('EGRESS_DENY', [])),
  };
  const port = Number(process.env.EGRESS_PORT ?? 3128);
  const listen = internalAddresses();
  if (listen.length === 0) {
    log({ msg: 'no network address to listen on' });
    process.exit(1);
  }
  await startEgressProxy(policy, { port, listen });
  log({ msg: 'listening', addresses: listen, port, allow: policy.allow });
}
