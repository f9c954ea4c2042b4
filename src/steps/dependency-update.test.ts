import { describe, expect, it } from 'vitest';
import { withoutCredentials } from './dependency-update.js';

describe('withoutCredentials (what the npm sandbox is told)', () => {
  it.each([
    ['https://registry.npmjs.org', 'https://registry.npmjs.org'],
    ['https://bot:s3cret@npm.internal:8443/repository/npm', 'https://npm.internal:8443/repository/npm'],
    ['http://token@registry.test:4873/', 'http://registry.test:4873'],
  ])('%s → %s', (registry, expected) => {
    expect(withoutCredentials(registry)).toBe(expected);
    expect(withoutCredentials(registry)).not.toContain('s3cret');
  });
});
