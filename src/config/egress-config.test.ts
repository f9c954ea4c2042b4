import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

describe('egress proxy settings', () => {
  it('defaults to the droidworks-egress network and no pinned hosts', () => {
    expect(loadConfig({}).sandbox.egress).toEqual({ network: 'droidworks-egress', hosts: {} });
  });

  it('reads the network and the pinned hosts', () => {
    const config = loadConfig({
      DROIDWORKS_EGRESS_NETWORK: 'corp-egress',
      DROIDWORKS_EGRESS_HOSTS: 'Registry.Internal=10.0.0.5, npm.internal=fd00::5',
    });
    expect(config.sandbox.egress).toEqual({
      network: 'corp-egress',
      hosts: { 'registry.internal': '10.0.0.5', 'npm.internal': 'fd00::5' },
    });
  });

  it.each([
    ['DROIDWORKS_EGRESS_HOSTS', 'registry.internal'],
    ['DROIDWORKS_EGRESS_HOSTS', 'registry.internal=not-an-ip'],
    ['DROIDWORKS_EGRESS_NETWORK', 'has space'],
  ])('names %s when %s is invalid', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(
      expect.objectContaining({ name: 'ConfigError', problems: [expect.objectContaining({ path: name })] }),
    );
  });
});
