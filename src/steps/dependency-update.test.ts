import { describe, expect, it } from 'vitest';
import { withoutCredentials, withoutLogPaths } from './dependency-update.js';

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

describe('withoutLogPaths (what a conflict draft shows of npm’s output)', () => {
  it('keeps the conflict and drops the log files left in the sandbox', () => {
    const output = [
      'npm error code ERESOLVE',
      'npm error ERESOLVE unable to resolve dependency tree',
      'npm error Could not resolve dependency:',
      'npm error peer tiny-host@"^2.0.0" from tiny-plug@1.1.0',
      'npm error',
      'npm error For a full report see:',
      'npm error /root/.npm/_logs/2026-12-01T08_36_48_230Z-eresolve-report.txt',
      'npm error A complete log of this run can be found in: /root/.npm/_logs/2026-12-01T08_36_48_230Z-debug-0.log',
      '',
    ].join('\n');
    const kept = withoutLogPaths(output);
    expect(kept).toContain('peer tiny-host@"^2.0.0" from tiny-plug@1.1.0');
    expect(kept).not.toContain('_logs');
    expect(kept).not.toContain('For a full report');
    expect(kept.split('\n').at(-1)).toBe('npm error');
  });
});
