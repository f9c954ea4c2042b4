import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { startForge, type Forge } from '../support/github-simulator.js';
import { bareEnv, redisServersUnder, runCli, spawnCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Every setting `doctor` checks, broken one at a time, against the real CLI from a fresh working
 * directory: one message naming the setting, no stack trace, no ioredis error spam, the right exit
 * code, and no embedded redis-server left behind.
 */
describe('the CLI fails fast with one message', () => {
  let forge: Forge;
  let token = '';
  let closedPort = 0;
  let busy: Server;
  let busyPort = 0;
  const dirs: string[] = [];

  beforeAll(async () => {
    forge = await startForge({});
    token = forge.createUser('operator').token;
    closedPort = await freePort();
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await forge?.close();
    busy?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const freshDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-cli-'));
    dirs.push(dir);
    return dir;
  };
  /** What an operator sets: a working token, the secret, a model key; everything else default. */
  const working = (): Record<string, string> => ({
    GITHUB_TOKEN: token,
    GITHUB_API_URL: forge.url,
    GITHUB_WEBHOOK_SECRET: 'a-long-random-secret',
    OPENAI_API_KEY: 'sk-test-0123456789',
    HOST: '127.0.0.1',
    PORT: '0',
    // The Docker case sets its own; the others must not depend on an engine.
    DROIDWORKS_SANDBOX: 'process',
  });

  interface Case {
    readonly name: string;
    readonly args?: string[];
    readonly command?: 'start' | 'gateway' | 'worker';
    readonly env: (dir: string) => Promise<Record<string, string | undefined>>;
    readonly exitCode: number;
    readonly message: (dir: string) => RegExp;
  }
  const cases: Case[] = [
    ...(['start', 'gateway', 'worker'] as const).map((command): Case => ({
      name: `Redis unreachable (${command})`,
      command,
      env: async () => ({ ...working(), REDIS_URL: `redis://127.0.0.1:${closedPort}` }),
      exitCode: 1,
      message: () =>
        new RegExp(
          `^Cannot reach Redis at 127\\.0\\.0\\.1:${closedPort} \\(REDIS_URL\\): connection refused\\.`,
        ),
    })),
    {
      name: 'Docker unreachable',
      env: async () => ({
        ...working(),
        DROIDWORKS_SANDBOX: undefined,
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      }),
      exitCode: 1,
      message: () =>
        /^Cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock \(DOCKER_HOST\): no such socket\./,
    },
    {
      name: 'a private key file that is not PEM',
      env: async (dir) => {
        await writeFile(join(dir, 'app.pem'), 'this is not a key\n');
        return {
          ...working(),
          GITHUB_TOKEN: undefined,
          GITHUB_APP_ID: '12345',
          GITHUB_PRIVATE_KEY_PATH: 'app.pem',
        };
      },
      exitCode: 2,
      message: (dir) =>
        new RegExp(
          `^Invalid configuration in environment \\(1 problem\\):\\n  - GITHUB_PRIVATE_KEY_PATH: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/app\\.pem is not a usable PEM private key`,
        ),
    },
    {
      name: 'GitHub unreachable (DNS)',
      env: async () => ({ ...working(), GITHUB_API_URL: 'http://droidworks-nowhere.invalid/api/v3' }),
      exitCode: 1,
      message: () =>
        /^Cannot reach GitHub at http:\/\/droidworks-nowhere\.invalid\/api\/v3 \(GITHUB_API_URL\): its host name does not resolve/,
    },
    {
      name: 'GitHub refusing the connection',
      env: async () => ({ ...working(), GITHUB_API_URL: `http://127.0.0.1:${closedPort}/api/v3` }),
      exitCode: 1,
      message: () =>
        new RegExp(
          `^GitHub at http://127\\.0\\.0\\.1:${closedPort}/api/v3 \\(GITHUB_API_URL\\) refused the connection: nothing listens on 127\\.0\\.0\\.1:${closedPort}\\.`,
        ),
    },
    {
      name: 'bad GitHub credentials',
      env: async () => ({ ...working(), GITHUB_TOKEN: 'ghp_revoked0123456789' }),
      exitCode: 1,
      message: () => /^GitHub at http:\/\/127\.0\.0\.1:\d+\/api\/v3 rejected GITHUB_TOKEN \(HTTP 401\)/,
    },
    {
      name: 'an invalid model entry',
      env: async () => ({ ...working(), DROIDWORKS_MODEL_CODER: 'anthropic:claude-sonnet-4-6,gemini:pro' }),
      exitCode: 2,
      message: () =>
        /DROIDWORKS_MODEL_CODER: entry "gemini:pro" is not provider:model; the provider must be one of openai, anthropic/,
    },
    {
      name: 'a --dotenv file that does not exist',
      args: ['--dotenv', 'missing.env', 'start'],
      env: async () => working(),
      exitCode: 2,
      message: (dir) => new RegExp(`--dotenv: cannot read ${dir}/missing\\.env: no such file`),
    },
    {
      name: 'the port taken, after the embedded Redis started',
      env: async () => ({ ...working(), PORT: String(busyPort) }),
      exitCode: 1,
      message: () => new RegExp(`^Port ${busyPort} on 127\\.0\\.0\\.1 is already in use \\(PORT, HOST\\)`),
    },
  ];

  it.concurrent.each(cases)('$name', async (c) => {
    const dir = await freshDir();
    const env = bareEnv(await c.env(dir));
    const result = await runCli(c.args ?? [c.command ?? 'start'], { cwd: dir, env });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(c.exitCode);
    // The one message, on stderr, and nothing else on stderr.
    expect(result.stderr).toMatch(c.message(dir));
    expect(result.stderr.trim().split('\n').length, result.stderr).toBeLessThanOrEqual(3);
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(output).not.toContain('Unhandled error event');
    expect(output).not.toContain('ghp_');
    expect(redisServersUnder(dir)).toEqual([]);
  });

  it.concurrent.each(['SIGTERM', 'SIGINT'] as const)(
    'stops its embedded redis-server on %s',
    async (signal) => {
      const dir = await freshDir();
      const cli = spawnCli(['start'], { cwd: dir, env: bareEnv(working()) });
      await waitFor(
        'the gateway to listen',
        () => cli.output().stdout.includes('gateway listening'),
        120_000,
      );
      expect(redisServersUnder(dir)).toHaveLength(1);
      cli.child.kill(signal);
      const result = await cli.done;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(redisServersUnder(dir)).toEqual([]);
    },
  );

  it('doctor reports every check after a failure, and points at nothing the package lacks', async () => {
    const dir = await freshDir();
    const result = await runCli(['doctor'], {
      cwd: dir,
      env: bareEnv({
        ...working(),
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
        DROIDWORKS_MODEL_CODER: 'gpt-5',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      }),
    });
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n').filter((l) => /^[✓✗] /.test(l));
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      '✗ configuration',
      '✗ redis',
      '✓ github',
      '✓ webhook secret',
      '✓ sandbox',
      '✓ models',
      '✗ traces',
    ]);
    expect(result.stdout).toContain('DROIDWORKS_MODEL_CODER: entry "gpt-5" is not provider:model');
    expect(result.stdout).toContain(`Cannot reach Redis at 127.0.0.1:${closedPort} (REDIS_URL)`);
    expect(result.stdout).toContain('authenticated as operator (token)');
    expect(result.stdout).toContain(
      `collector at http://127.0.0.1:${closedPort}/v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT) cannot be reached (ECONNREFUSED)`,
    );
    expect(result.stdout).not.toContain('setup.sh');
    expect(result.stdout + result.stderr).not.toContain('Unhandled error event');
  });
});
