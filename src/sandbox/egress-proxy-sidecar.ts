import { networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { demuxStream } from './demux-stream.js';

/** Host name the run's commands reach the proxy by (an alias on the run's internal network). */
export const EGRESS_PROXY_HOST = 'dw-egress-proxy';
export const EGRESS_PROXY_PORT = 3128;

/** The operator's side of the egress proxy (configuration `sandbox.egress`). */
export interface EgressSettings {
  /** Docker network through which the proxy reaches allowed hosts; created when missing. */
  readonly network: string;
  /** Names the proxy resolves to these addresses and trusts even when they are private. */
  readonly hosts: Readonly<Record<string, string>>;
}

/**
 * The environment that sends a run's HTTP(S) through its proxy: both spellings (curl and Python
 * read lower case, npm and Go either), and no proxy for the run's own sidecars and loopback.
 */
export function proxyEnv(serviceNames: readonly string[]): Record<string, string> {
  const url = `http://${EGRESS_PROXY_HOST}:${EGRESS_PROXY_PORT}`;
  const noProxy = ['localhost', '127.0.0.1', '::1', ...serviceNames].join(',');
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    NO_PROXY: noProxy,
    http_proxy: url,
    https_proxy: url,
    no_proxy: noProxy,
  };
}

/**
 * Create options of a run's egress proxy (pure): the proxy image as `nobody`, read-only, every
 * capability dropped, small limits, first on the run's internal network only (it binds there at
 * start; the egress network is connected after), its policy in the environment. Logs kept (JSON
 * lines) so the worker can report refusals.
 */
export function egressProxySpec(options: {
  readonly name: string;
  readonly image: string;
  readonly network: string;
  readonly allow: readonly string[];
  readonly pinned: Readonly<Record<string, string>>;
  readonly deny: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}): Docker.ContainerCreateOptions {
  const memory = 128 * 1024 * 1024;
  return {
    name: options.name,
    Image: options.image,
    User: '65534:65534',
    Env: [
      `EGRESS_ALLOW=${JSON.stringify(options.allow)}`,
      `EGRESS_PINNED=${JSON.stringify(options.pinned)}`,
      `EGRESS_DENY=${JSON.stringify(options.deny)}`,
      `EGRESS_PORT=${EGRESS_PROXY_PORT}`,
    ],
    Labels: { ...options.labels, [LABELS.role]: 'egress-proxy' },
    StopTimeout: 1,
    HostConfig: {
      NetworkMode: options.network,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: 64,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: 500_000_000,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [EGRESS_PROXY_HOST] } } },
  };
}

/**
 * The egress network, created (non-internal bridge, labelled ours) when it does not exist yet.
 * Returns its gateway addresses: the Docker host as seen from it, which the proxy refuses.
 */
export async function ensureEgressNetwork(
  docker: Docker,
  name: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<string[]> {
  const gateways = (info: { IPAM?: { Config?: { Gateway?: string }[] } }) =>
    (info.IPAM?.Config ?? []).flatMap((c) => (c.Gateway ? [c.Gateway] : []));
  try {
    return gateways(await docker.getNetwork(name).inspect());
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { [LABELS.managed]: 'true', [LABELS.role]: 'egress-network' },
      abortSignal: signal,
    });
    log.info({ network: name }, 'sandbox created the egress network');
  } catch (err) {
    // Another worker created it at the same time.
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  return gateways(await docker.getNetwork(name).inspect());
}

/**
 * Starts a run's egress proxy on its internal network `runNetwork`: makes sure the egress network
 * exists, creates the proxy (handed to `track` at once, so the caller removes it on any failure),
 * waits until it listens and attaches it to the egress network.
 */
export async function startRunEgressProxy(o: {
  readonly docker: Docker;
  readonly settings: EgressSettings;
  readonly image: Promise<string>;
  readonly name: string;
  readonly runNetwork: string;
  readonly allow: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly track: (container: Docker.Container) => void;
  readonly signal?: AbortSignal;
}): Promise<void> {
  // Awaited first: a failed build is this run's error, never an unhandled rejection.
  const image = await o.image;
  const gateways = await ensureEgressNetwork(o.docker, o.settings.network, o.log, o.signal);
  const proxy = await o.docker.createContainer({
    ...egressProxySpec({
      name: o.name,
      image,
      network: o.runNetwork,
      allow: o.allow,
      pinned: o.settings.hosts,
      deny: [...new Set([...gateways, ...ownAddresses()])],
      labels: o.labels,
    }),
    abortSignal: o.signal,
  });
  o.track(proxy);
  await startEgressProxyContainer(proxy, {
    egressNetwork: o.docker.getNetwork(o.settings.network),
    log: o.log.child({ component: 'egress-proxy' }),
    signal: o.signal,
  });
  o.log.info({ allow: o.allow, egressNetwork: o.settings.network }, 'sandbox egress proxy started');
}

/** This process's own non-loopback addresses (the worker's host, or its container). */
export function ownAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).filter((a) => !a.internal).map((a) => a.address.replace(/%.*$/, '')),
  );
}

/**
 * Starts a created proxy container, waits until it listens on the internal network, then connects
 * it to the egress network. Refusals it prints are logged as warnings for the rest of its life.
 */
export async function startEgressProxyContainer(
  container: Docker.Container,
  options: {
    readonly egressNetwork: Docker.Network;
    readonly log: Logger;
    readonly signal?: AbortSignal;
    /** @defaultValue 20000 */
    readonly readyTimeoutMs?: number;
  },
): Promise<void> {
  const { log, signal } = options;
  await container.start({ abortSignal: signal });
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
    abortSignal: signal,
  })) as unknown as Readable;
  let seen = '';
  let partial = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const ended = demuxStream(stream, (_kind, chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (seen.length < 4096) seen += `${line}\n`;
      const entry = parseLine(line);
      if (entry?.msg === 'listening') onReady();
      else if (entry?.msg === 'refused')
        log.warn(
          { host: entry.host, port: entry.port, reason: entry.reason },
          'egress proxy refused a connection',
        );
      else if (entry?.msg === 'upstream failed')
        log.info({ host: entry.host, port: entry.port, error: entry.error }, 'egress proxy upstream failed');
    }
  }).catch((err: unknown) => log.debug({ err }, 'egress proxy log stream ended'));
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    ended.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), options.readyTimeoutMs ?? 20_000))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    stream.destroy();
    throw new Error(
      `the egress proxy did not start (${outcome}): ${seen.trim().slice(0, 1000) || 'no output'}`,
    );
  }
  await options.egressNetwork.connect({ Container: container.id });
}

interface ProxyLogLine {
  readonly msg?: string;
  readonly host?: string;
  readonly port?: number;
  readonly reason?: string;
  readonly error?: string;
}

function parseLine(line: string): ProxyLogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as ProxyLogLine;
  } catch {
    // Not one of the proxy's JSON lines (e.g. a Node warning): nothing to report.
    return undefined;
  }
}
