import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';

function problemsOf(fn: () => unknown): Array<{ path: string; message: string; example?: string }> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives sane defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.github.apiUrl).toBe('https://api.github.com');
    expect(config.triggerLabel).toBe('droid');
    expect(config.commandPrefix).toBe('/droid');
    expect(config.redisUrl).toBeUndefined();
    expect(config.models.roles.coder[0]).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-6' });
    expect(config.sandbox).toMatchObject({ backend: 'docker', warmPool: 0 });
  });

  it('lists every problem at once, each with the variable and an example', () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          GITHUB_API_URL: 'not a url',
          PORT: 'eighty',
          REDIS_URL: 'localhost:6379',
          DROIDWORKS_SANDBOX: 'vm',
          DROIDWORKS_MODEL_CODER: 'gpt-5',
          DROIDWORKS_MAX_COST_USD: '-1',
        },
        { require: ['gateway', 'worker'] },
      ),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'GITHUB_TOKEN',
        'GITHUB_WEBHOOK_SECRET',
        'DROIDWORKS_MAX_COST_USD',
        'DROIDWORKS_MODEL_CODER',
        'DROIDWORKS_SANDBOX',
        'GITHUB_API_URL',
        'PORT',
        'REDIS_URL',
      ].sort(),
    );
    expect(problems.find((p) => p.path === 'REDIS_URL')?.example).toBe('redis://127.0.0.1:6379');
  });

  it('requires the webhook secret for the gateway and credentials for the worker', () => {
    const problems = problemsOf(() => loadConfig({}, { require: ['gateway', 'worker'] }));
    expect(problems.map((p) => p.path)).toEqual(['GITHUB_WEBHOOK_SECRET', 'GITHUB_TOKEN']);
    const message = new ConfigError(problems).message;
    expect(message).toContain('2 problems');
    expect(message).toContain('GITHUB_WEBHOOK_SECRET=a-long-random-string');
  });

  it('reads App credentials from a key file, and names an unreadable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
    const keyPath = join(dir, 'app.pem');
    writeFileSync(keyPath, '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n');
    const config = loadConfig({ GITHUB_APP_ID: '42', GITHUB_PRIVATE_KEY_PATH: keyPath });
    expect(config.github.auth).toMatchObject({ kind: 'app', appId: '42' });
    const problems = problemsOf(() =>
      loadConfig({ GITHUB_APP_ID: '42', GITHUB_PRIVATE_KEY_PATH: join(dir, 'missing.pem') }),
    );
    expect(problems).toMatchObject([
      { path: 'GITHUB_PRIVATE_KEY_PATH', message: expect.stringContaining('ENOENT') },
    ]);
  });

  it('reads a .env file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
    writeFileSync(join(dir, '.env'), 'GITHUB_TOKEN=from-file\nDROIDWORKS_TRIGGER_LABEL="droid-please"\n');
    const config = loadConfig({ GITHUB_TOKEN: 'from-env' }, { envFile: join(dir, '.env') });
    expect(config.github.auth).toEqual({ kind: 'token', token: 'from-env' });
    expect(config.triggerLabel).toBe('droid-please');
  });
});
