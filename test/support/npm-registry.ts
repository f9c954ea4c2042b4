import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local npm registry on loopback: package metadata (the packument) and empty tarballs. */
export interface LocalNpmRegistry {
  readonly url: string;
  /** Publishes `name@version` (metadata only; its tarball is an empty .tgz). */
  publish(name: string, version: string, options?: { homepage?: string }): void;
  /** Package names asked for, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startNpmRegistry(): Promise<LocalNpmRegistry> {
  const packages = new Map<string, { versions: string[]; homepage?: string }>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://registry.invalid').pathname.slice(1));
    const tarball = /^(.+)\/-\/.+\.tgz$/.exec(path);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(0));
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
      'dist-tags': { latest: pkg.versions.at(-1) },
      versions: Object.fromEntries(
        pkg.versions.map((v) => [
          v,
          {
            name: path,
            version: v,
            dist: { tarball: `${base}/${path}/-/${path.split('/').pop()}-${v}.tgz` },
          },
        ]),
      ),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    publish(name, version, options = {}) {
      const pkg = packages.get(name) ?? { versions: [] };
      pkg.versions.push(version);
      if (options.homepage) pkg.homepage = options.homepage;
      packages.set(name, pkg);
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
