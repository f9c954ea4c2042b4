import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { tarArchive } from '../../src/sandbox/egress-image.js';

export interface PublishOptions {
  readonly homepage?: string;
  /** `repository.url` in the packument (`git+https://github.com/o/r.git`). */
  readonly repository?: string;
  /** Files of the package besides its package.json (`index.js` is the main file). @defaultValue an empty module */
  readonly files?: Readonly<Record<string, string>>;
  /** `peerDependencies` of this version (in its packument entry and its package.json). */
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/**
 * A local npm registry: package metadata (the packument, with `dist.integrity`) and real gzipped
 * tarballs, so `npm install` works against it. Tarball URLs follow the `Host` the client used, so
 * the same registry serves the host (loopback) and a sandbox (a pinned name through its egress proxy).
 */
export interface LocalNpmRegistry {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  publish(name: string, version: string, options?: PublishOptions): void;
  /**
   * A package-lock.json (v3) pinning these exact versions, as `npm install` would write it with the
   * registry at `base` (the URL the sandbox uses).
   */
  lockFile(
    base: string,
    pins: Readonly<Record<string, string>>,
    ranges: Readonly<Record<string, string>>,
  ): string;
  /** Package names asked for, in order (metadata only). */
  readonly requests: string[];
  /** Tarballs downloaded (`name@version`), in order. */
  readonly downloads: string[];
  close(): Promise<void>;
}

interface Published {
  readonly version: string;
  readonly tarball: Buffer;
  readonly integrity: string;
  readonly shasum: string;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** @param host where to listen; `0.0.0.0` lets a container reach it through a Docker network's gateway. */
export async function startNpmRegistry(host = '127.0.0.1'): Promise<LocalNpmRegistry> {
  const packages = new Map<string, { versions: Published[]; homepage?: string; repository?: string }>();
  const requests: string[] = [];
  const downloads: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://registry.invalid').pathname.slice(1));
    const tarball = /^(.+)\/-\/.+-(\d+\.\d+\.\d+)\.tgz$/.exec(path);
    if (tarball) {
      const found = packages.get(tarball[1]!)?.versions.find((v) => v.version === tarball[2]);
      if (!found) {
        res.writeHead(404).end();
        return;
      }
      downloads.push(`${tarball[1]}@${tarball[2]}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(found.tarball);
      return;
    }
    requests.push(path);
    const pkg = packages.get(path);
    if (!pkg) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    const body = {
      name: path,
      ...(pkg.homepage ? { homepage: pkg.homepage } : {}),
      ...(pkg.repository ? { repository: { type: 'git', url: pkg.repository } } : {}),
      'dist-tags': { latest: pkg.versions.at(-1)?.version },
      versions: Object.fromEntries(
        pkg.versions.map((v) => [
          v.version,
          {
            name: path,
            version: v.version,
            main: 'index.js',
            ...(v.peerDependencies ? { peerDependencies: v.peerDependencies } : {}),
            dist: {
              tarball: `${base}/${path}/-/${path.split('/').pop()}-${v.version}.tgz`,
              integrity: v.integrity,
              shasum: v.shasum,
            },
          },
        ]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    downloads,
    publish(name, version, options = {}) {
      const pkg = packages.get(name) ?? { versions: [] };
      const files = options.files ?? { 'index.js': 'module.exports = {};\n' };
      const tarball = gzipSync(
        tarArchive([
          {
            name: 'package/package.json',
            body: JSON.stringify({
              name,
              version,
              main: 'index.js',
              ...(options.peerDependencies ? { peerDependencies: options.peerDependencies } : {}),
            }),
          },
          ...Object.entries(files).map(([file, body]) => ({ name: `package/${file}`, body })),
        ]),
      );
      pkg.versions.push({
        version,
        tarball,
        integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
        shasum: createHash('sha1').update(tarball).digest('hex'),
        ...(options.peerDependencies ? { peerDependencies: options.peerDependencies } : {}),
      });
      if (options.homepage) pkg.homepage = options.homepage;
      if (options.repository) pkg.repository = options.repository;
      packages.set(name, pkg);
    },
    lockFile(base, pins, ranges) {
      const entries = Object.entries(pins).map(([name, version]) => {
        const found = packages.get(name)?.versions.find((v) => v.version === version);
        if (!found) throw new Error(`${name}@${version} is not published`);
        return [
          `node_modules/${name}`,
          {
            version,
            resolved: `${base}/${name}/-/${name.split('/').pop()}-${version}.tgz`,
            integrity: found.integrity,
            ...(found.peerDependencies ? { peerDependencies: found.peerDependencies } : {}),
          },
        ] as const;
      });
      const lock = {
        name: 'calculator',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'calculator', version: '1.0.0', dependencies: ranges },
          ...Object.fromEntries(entries),
        },
      };
      return `${JSON.stringify(lock, null, 2)}\n`;
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
