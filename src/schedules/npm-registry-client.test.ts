import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchNpmMetadata,
  NpmRegistryError,
  packageMetadata,
  registryAllowEntry,
} from './npm-registry-client.js';
import { groupUpdates, releaseNotesUrl } from './plan-dependency-updates.js';
import { manifestDependencies } from './plan-npm-updates.js';

describe('releaseNotesUrl', () => {
  it.each([
    [
      { repository: 'git+https://github.com/left-pad/left-pad.git' },
      'https://github.com/left-pad/left-pad/releases',
    ],
    [{ repository: 'https://github.com/o/r' }, 'https://github.com/o/r/releases'],
    [{ repository: 'git://github.com/o/r.git' }, 'https://github.com/o/r/releases'],
    [{ repository: 'git+ssh://git@github.com/o/r.git' }, 'https://github.com/o/r/releases'],
    [{ repository: 'git@github.com:o/r.git' }, 'https://github.com/o/r/releases'],
    [{ repository: 'github:o/r' }, 'https://github.com/o/r/releases'],
    [{ repository: 'o/r' }, 'https://github.com/o/r/releases'],
    [
      { repository: 'https://github.com/babel/babel/tree/main/packages/core' },
      'https://github.com/babel/babel/releases',
    ],
    [{ repository: 'https://gitlab.com/o/r.git', homepage: 'https://r.example' }, 'https://r.example'],
    [{ homepage: 'https://example.test/notes' }, 'https://example.test/notes'],
    [{ homepage: 'javascript:alert(1)' }, undefined],
    [{}, undefined],
  ])('%j → %s', (meta, expected) => {
    expect(releaseNotesUrl(meta)).toBe(expected);
  });
});

describe('registryAllowEntry', () => {
  it.each([
    ['https://registry.npmjs.org', 'registry.npmjs.org'],
    ['http://registry.test:4873', 'registry.test:4873'],
    ['https://npm.internal:8443/repository/npm', 'npm.internal:8443'],
  ])('%s → %s', (url, entry) => expect(registryAllowEntry(url)).toBe(entry));
});

describe('packageMetadata and manifestDependencies', () => {
  it('keeps versions, homepage and the repository url (object or string)', () => {
    expect(
      packageMetadata('a', {
        versions: { '1.0.0': {}, '1.1.0': {} },
        homepage: 'https://a.test',
        repository: { type: 'git', url: 'git+https://github.com/o/a.git' },
      }),
    ).toEqual({
      name: 'a',
      versions: ['1.0.0', '1.1.0'],
      homepage: 'https://a.test',
      repository: 'git+https://github.com/o/a.git',
    });
    expect(packageMetadata('b', { repository: 'o/b' })).toEqual({
      name: 'b',
      versions: [],
      repository: 'o/b',
    });
  });
  it('reads both dependency sections and refuses what is not JSON', () => {
    expect(
      manifestDependencies(
        JSON.stringify({ dependencies: { a: '^1.0.0' }, devDependencies: { b: '~2.0.0', c: 3 } }),
      ),
    ).toEqual({ a: '^1.0.0', b: '~2.0.0' });
    expect(manifestDependencies('{ not json')).toBeUndefined();
  });
  it('groups a plan in order', () => {
    const u = (name: string, group: string) =>
      ({ name, group, from: '1', to: '2', fromVersion: '1.0.0', toVersion: '2.0.0', type: 'major' }) as const;
    expect(
      [...groupUpdates([u('a', 'x'), u('b', 'y'), u('c', 'x')])].map(([g, l]) => [g, l.map((x) => x.name)]),
    ).toEqual([
      ['x', ['a', 'c']],
      ['y', ['b']],
    ]);
  });
});

describe('fetchNpmMetadata (real HTTP)', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function registry(handler: Parameters<typeof createServer>[1]): Promise<number> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('asks for each package (scoped names encoded), skips 404s, and follows a pinned name', async () => {
    const seen: string[] = [];
    const port = await registry((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      if (req.url === '/missing') return void res.writeHead(404).end('{}');
      res.end(JSON.stringify({ versions: { '1.0.0': {} } }));
    });
    const found = await fetchNpmMetadata({
      registry: `http://registry.test:${port}`,
      names: ['@acme/ui', 'missing'],
      pins: { 'registry.test': '127.0.0.1' },
    });
    expect([...found.keys()]).toEqual(['@acme/ui']);
    expect(seen).toEqual([`registry.test:${port} /@acme%2fui`, `registry.test:${port} /missing`]);
  });

  it('a registry error names the package and keeps its status', async () => {
    const port = await registry((_req, res) => res.writeHead(503).end());
    const failing = fetchNpmMetadata({ registry: `http://127.0.0.1:${port}`, names: ['left-pad'] });
    await expect(failing).rejects.toThrow(NpmRegistryError);
    await expect(failing).rejects.toMatchObject({ packageName: 'left-pad', status: 503 });
  });

  it('an unreachable registry keeps the cause', async () => {
    const port = await registry((_req, res) => res.end());
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const err = await fetchNpmMetadata({ registry: `http://127.0.0.1:${port}`, names: ['x'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NpmRegistryError);
    expect((err as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });
});
