import { describe, expect, it } from 'vitest';
import { decideEgress, matchAllowed, restrictedReason, splitHostPort } from './egress-proxy.mjs';
import { egressProxySpec, proxyEnv } from './egress-proxy-sidecar.js';
import { egressDockerfile, egressImageTag, tarArchive } from './egress-image.js';

const policy = {
  allow: [
    'registry.npmjs.org',
    '*.pypi.org',
    'proxy.internal:3128',
    'pinned.test',
    '10.1.2.3:8080',
    'localhost',
  ],
  pinned: { 'pinned.test': '127.0.0.1' },
  deny: ['203.0.113.9', '8.8.4.4'],
};

describe('matchAllowed', () => {
  it.each([
    ['registry.npmjs.org', 443, 'registry.npmjs.org'],
    ['REGISTRY.npmjs.org.', 80, 'registry.npmjs.org'],
    ['registry.npmjs.org', 22, undefined],
    ['files.pypi.org', 443, '*.pypi.org'],
    ['a.b.pypi.org', 443, '*.pypi.org'],
    ['pypi.org', 443, undefined],
    ['evilpypi.org', 443, undefined],
    ['proxy.internal', 3128, 'proxy.internal:3128'],
    ['proxy.internal', 443, undefined],
    ['10.1.2.3', 8080, '10.1.2.3:8080'],
    ['10.1.2.3', 80, undefined],
    ['example.com', 443, undefined],
  ])('%s:%i → %s', (host, port, entry) => {
    expect(matchAllowed(policy.allow, host, port)).toBe(entry);
  });

  it('never lets a wildcard match an IP address', () => {
    expect(matchAllowed(['*.0.0.1'], '127.0.0.1', 443)).toBeUndefined();
  });
});

describe('restrictedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.17.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['192.0.2.2', 'documentation'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'private (unique local)'],
    ['8.8.4.4', 'an address of the droidworks host'],
    ['104.16.0.1', undefined],
    ['2606:4700::1111', undefined],
  ])('%s → %s', (address, reason) => {
    expect(restrictedReason(address, policy.deny)).toBe(reason);
  });
});

describe('decideEgress', () => {
  it.each([
    // [host, port, resolved addresses, expected]
    ['registry.npmjs.org', 443, undefined, 'lookup'],
    ['registry.npmjs.org', 443, ['104.16.0.1'], { ok: true, address: '104.16.0.1', via: 'dns' }],
    ['registry.npmjs.org', 443, ['104.16.0.1', '127.0.0.1'], /resolves to 127\.0\.0\.1 \(loopback\)/],
    ['registry.npmjs.org', 443, ['169.254.169.254'], /link-local/],
    ['registry.npmjs.org', 443, [], /does not resolve/],
    ['localhost', 80, ['127.0.0.1'], /resolves to 127\.0\.0\.1/],
    ['pinned.test', 443, undefined, { ok: true, address: '127.0.0.1', via: 'pinned' }],
    ['10.1.2.3', 8080, undefined, { ok: true, address: '10.1.2.3', via: 'literal' }],
    ['127.0.0.1', 80, undefined, /127\.0\.0\.1:80 is not in network\.allow/],
    ['example.com', 443, ['104.16.0.2'], /example\.com:443 is not in network\.allow/],
    ['registry.npmjs.org', 0, undefined, /bad port/],
  ] as const)('%s:%i with %j', (host, port, addresses, expected) => {
    const d = decideEgress(policy, host, port, addresses);
    if (expected instanceof RegExp) {
      expect(d).toMatchObject({ ok: false });
      expect(typeof d === 'object' && !d.ok ? d.reason : '').toMatch(expected);
    } else expect(d).toEqual(expected);
  });
});

describe('splitHostPort', () => {
  it.each([
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['example.com', { host: 'example.com', port: 443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['', undefined],
  ])('%s', (value, expected) => {
    expect(splitHostPort(value, 443)).toEqual(expected);
  });
});

describe('egress proxy container and sandbox environment', () => {
  it('sets both spellings of the proxy variables and exempts sidecars', () => {
    const env = proxyEnv(['db']);
    expect(env.HTTPS_PROXY).toBe('http://dw-egress-proxy:3128');
    expect(env.http_proxy).toBe(env.HTTP_PROXY);
    expect(env.no_proxy).toBe('localhost,127.0.0.1,::1,db');
    expect(env.NO_PROXY).toBe(env.no_proxy);
  });

  it('runs the proxy hardened, on the internal network only, with its policy', () => {
    const spec = egressProxySpec({
      name: 'dw-egress-r1',
      image: 'droidworks/egress-proxy:abc',
      network: 'dw-net-r1',
      allow: ['registry.npmjs.org'],
      pinned: {},
      deny: ['172.18.0.1'],
      labels: { 'droidworks.run-id': 'r1' },
    });
    expect(spec.User).toBe('65534:65534');
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'dw-net-r1',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    });
    expect(spec.Labels).toEqual({ 'droidworks.run-id': 'r1', 'droidworks.role': 'egress-proxy' });
    expect(spec.Env).toContain('EGRESS_ALLOW=["registry.npmjs.org"]');
    expect(spec.Env).toContain('EGRESS_DENY=["172.18.0.1"]');
    expect(Object.keys(spec.NetworkingConfig?.EndpointsConfig ?? {})).toEqual(['dw-net-r1']);
  });

  it('builds the image from the runner image, tagged by content', () => {
    expect(egressDockerfile('droidworks/runner:bookworm-1')).toMatch(/^FROM droidworks\/runner:bookworm-1\n/);
    const a = egressImageTag('script', 'sha256:1');
    expect(a).toMatch(/^droidworks\/egress-proxy:[0-9a-f]{12}$/);
    expect(egressImageTag('script', 'sha256:2')).not.toBe(a);
    expect(egressImageTag('script2', 'sha256:1')).not.toBe(a);
    const tar = tarArchive([{ name: 'Dockerfile', body: 'FROM x\n' }]);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
  });
});
