import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { PackageMetadata } from './plan-dependency-updates.js';

/** The registry did not answer, or answered with an error, for one package. */
export class NpmRegistryError extends Error {
  override readonly name = 'NpmRegistryError';
  constructor(
    readonly packageName: string,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface FetchMetadataOptions {
  /** Registry base URL, no trailing slash (`DROIDWORKS_NPM_REGISTRY`). */
  readonly registry: string;
  readonly names: readonly string[];
  /**
   * Names the operator pinned to addresses (`DROIDWORKS_EGRESS_HOSTS`): the host connects to the
   * same address as the sandbox's egress proxy, so one registry URL works on both sides.
   */
  readonly pins?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** @defaultValue 30000 */
  readonly timeoutMs?: number;
}

/**
 * Asks the npm registry for each package's packument (`GET <registry>/<name>`) and keeps the parts
 * dependency-update uses. A package the registry does not know (404) is left out.
 */
export async function fetchNpmMetadata(o: FetchMetadataOptions): Promise<Map<string, PackageMetadata>> {
  const out = new Map<string, PackageMetadata>();
  for (const name of o.names) {
    const url = `${o.registry}/${name.replace('/', '%2f')}`;
    let answer: { status: number; body: string };
    try {
      answer = await getText(url, o);
    } catch (err) {
      throw new NpmRegistryError(
        name,
        `the npm registry (${o.registry}) did not answer for ${name}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (answer.status === 404) continue;
    if (answer.status < 200 || answer.status >= 300)
      throw new NpmRegistryError(
        name,
        `the npm registry answered ${answer.status} for ${name}`,
        answer.status,
      );
    out.set(name, packageMetadata(name, JSON.parse(answer.body) as Packument));
  }
  return out;
}

/** The parts of a packument that are read. */
interface Packument {
  readonly versions?: Record<string, unknown>;
  readonly homepage?: unknown;
  readonly repository?: unknown;
}

/** A packument reduced to {@link PackageMetadata}. Pure. */
export function packageMetadata(name: string, body: Packument): PackageMetadata {
  const repo = body.repository;
  const repository =
    typeof repo === 'string'
      ? repo
      : typeof repo === 'object' && repo !== null && typeof (repo as { url?: unknown }).url === 'string'
        ? (repo as { url: string }).url
        : undefined;
  return {
    name,
    versions: Object.keys(body.versions ?? {}),
    ...(typeof body.homepage === 'string' ? { homepage: body.homepage } : {}),
    ...(repository ? { repository } : {}),
  };
}

/**
 * The `network.allow` entry that admits exactly the registry: `host:port` when the URL names a
 * port, else `host` (ports 80 and 443). Pure.
 */
export function registryAllowEntry(registry: string): string {
  const url = new URL(registry);
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}

function getText(url: string, o: FetchMetadataOptions): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const pinned = o.pins?.[target.hostname.toLowerCase()];
  const lookup: LookupFunction | undefined = pinned
    ? (_host, options, callback) => {
        const family = isIP(pinned);
        if (options.all) callback(null, [{ address: pinned, family }]);
        else callback(null, pinned, family);
      }
    : undefined;
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: o.signal,
        timeout: o.timeoutMs ?? 30_000,
        ...(lookup ? { lookup } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}
