import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();

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

  it('reads DROIDWORKS_WEBHOOK_LANE: on by default, off on request, anything else named', () => {
    expect(loadConfig({}).webhookLane).toBe(true);
    expect(loadConfig({ DROIDWORKS_WEBHOOK_LANE: 'off' }).webhookLane).toBe(false);
    expect(problemsOf(() => loadConfig({ DROIDWORKS_WEBHOOK_LANE: 'fast' })).map((p) => p.path)).toEqual([
      'DROIDWORKS_WEBHOOK_LANE',
    ]);
  });

  it('reads the dashboard sign-in: an admin token and the OAuth client, both halves or neither', () => {
    expect(loadConfig({}).dashboard).toEqual({ token: undefined, oauth: undefined });
    const config = loadConfig({
      DROIDWORKS_DASHBOARD_TOKEN: 'x'.repeat(24),
      GITHUB_CLIENT_ID: 'Iv23abc',
      GITHUB_CLIENT_SECRET: 'shh',
    });
    expect(config.dashboard).toEqual({
      token: 'x'.repeat(24),
      oauth: { clientId: 'Iv23abc', clientSecret: 'shh' },
    });
    expect(problemsOf(() => loadConfig({ DROIDWORKS_DASHBOARD_TOKEN: 'short' }))).toEqual([
      expect.objectContaining({
        path: 'DROIDWORKS_DASHBOARD_TOKEN',
        message: 'must be at least 24 characters',
      }),
    ]);
    expect(problemsOf(() => loadConfig({ GITHUB_CLIENT_ID: 'Iv23abc' }))).toEqual([
      expect.objectContaining({
        path: 'GITHUB_CLIENT_SECRET',
        example: 'GITHUB_CLIENT_SECRET=0123456789abcdef…',
      }),
    ]);
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
    writeFileSync(keyPath, pem);
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

  it('resolves every path setting against the working directory once, at load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
    writeFileSync(join(dir, 'app.pem'), pem);
    const config = loadConfig(
      { GITHUB_APP_ID: '42', GITHUB_PRIVATE_KEY_PATH: 'app.pem', DROIDWORKS_PRICES_FILE: 'prices.json' },
      { cwd: dir },
    );
    expect(config.dataDir).toBe(join(dir, '.droidworks'));
    expect(config.models.pricesFile).toBe(join(dir, 'prices.json'));
    expect(config.github.auth).toMatchObject({ kind: 'app', privateKey: pem });
    expect(loadConfig({ DROIDWORKS_DATA_DIR: '../data' }, { cwd: dir }).dataDir).toBe(
      join(dir, '..', 'data'),
    );
    expect(loadConfig({ DROIDWORKS_DATA_DIR: '/var/lib/dw' }, { cwd: dir }).dataDir).toBe('/var/lib/dw');
    expect(loadConfig({}).dataDir).toBe(join(process.cwd(), '.droidworks'));
  });

  it.each([
    ['a file that is not PEM', 'GITHUB_PRIVATE_KEY_PATH', 'not a key at all\n'],
    [
      'a PEM block that does not parse',
      'GITHUB_PRIVATE_KEY_PATH',
      '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n',
    ],
    ['an inline value that is not PEM', 'GITHUB_PRIVATE_KEY', 'ghp_not-a-key'],
  ])('names the variable holding %s as the App private key', (_what, variable, content) => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
    writeFileSync(join(dir, 'app.pem'), content);
    const env =
      variable === 'GITHUB_PRIVATE_KEY_PATH'
        ? { GITHUB_APP_ID: '42', GITHUB_PRIVATE_KEY_PATH: join(dir, 'app.pem') }
        : { GITHUB_APP_ID: '42', GITHUB_PRIVATE_KEY: content };
    const problems = problemsOf(() => loadConfig(env, { require: ['worker'] }));
    expect(problems).toEqual([
      expect.objectContaining({
        path: variable,
        message: expect.stringContaining('not a usable PEM private key'),
      }),
    ]);
  });

  it.each([
    ['gpt-5', 'entry "gpt-5" is not provider:model; the provider must be one of openai, anthropic'],
    ['anthropic:claude-sonnet-4-6, google:gemini', 'entry "google:gemini" is not provider:model'],
    [' , ', 'needs at least one provider:model'],
  ])('names the bad model entry in %j and the providers allowed', (value, message) => {
    const problems = problemsOf(() => loadConfig({ DROIDWORKS_MODEL_REVIEWER: value }));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'DROIDWORKS_MODEL_REVIEWER',
        message: expect.stringContaining(message),
      }),
    ]);
  });

  it('ignores a missing default .env but names an explicitly given one that is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
    expect(loadConfig({}, { envFile: '.env', cwd: dir }).triggerLabel).toBe('droid');
    const problems = problemsOf(() =>
      loadConfig({}, { envFile: 'prod.env', envFileRequired: true, cwd: dir }),
    );
    expect(problems).toEqual([
      {
        path: '--dotenv',
        message: `cannot read ${join(dir, 'prod.env')}: no such file`,
        example: expect.any(String),
      },
    ]);
  });
});

describe('loadConfig: OpenTelemetry traces', () => {
  it.each([
    [{}, { url: undefined, headers: {}, serviceName: 'droidworks' }],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' },
      { url: 'http://collector:4318/v1/traces', headers: {}, serviceName: 'droidworks' },
    ],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
        OTEL_EXPORTER_OTLP_HEADERS: 'X-Api-Key=abc%3D1, team = ci',
        OTEL_SERVICE_NAME: 'droidworks-staging',
      },
      {
        url: 'https://traces.example/otlp',
        headers: { 'x-api-key': 'abc=1', team: 'ci' },
        serviceName: 'droidworks-staging',
      },
    ],
  ])('reads the OpenTelemetry trace settings: %o', (env, tracing) => {
    expect(loadConfig(env).tracing).toEqual(tracing);
  });

  it('names a malformed OTLP endpoint or header list', () => {
    expect(
      problemsOf(() =>
        loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }),
      ).map((p) => p.path),
    ).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS']);
  });
});
