import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  env_file?: string;
}

const compose = parse(await readFile('infra/docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const { redis, gateway, worker } = compose.services as Record<string, Service>;

/** The first compose CLI found: the v2 plugin, or v1 `docker-compose` (apt package `docker-compose`). */
async function composeCli(): Promise<string[] | undefined> {
  for (const cli of [['docker', 'compose'], ['docker-compose']]) {
    try {
      await run(cli[0] as string, [...cli.slice(1), 'version']);
      return cli;
    } catch {
      // Not installed: try the next one.
    }
  }
  return undefined;
}

describe('infra/docker-compose.yml', () => {
  it('mounts the data directory at the same absolute path in the worker and on the host', () => {
    const dataDir = worker?.environment?.DROIDWORKS_DATA_DIR;
    expect(dataDir).toBe('${DROIDWORKS_DATA_DIR:-/var/lib/droidworks}');
    expect(worker?.volumes).toContain(`${dataDir}:${dataDir}`);
    expect(worker?.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });

  it('starts nothing before Redis is healthy and the runner image is built', () => {
    expect(gateway?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(worker?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(worker?.depends_on?.['runner-image']?.condition).toBe('service_completed_successfully');
    expect(compose.services['runner-image']?.image).toBe(
      '${DROIDWORKS_RUNNER_IMAGE:-droidworks/runner:bookworm-1}',
    );
    for (const s of [redis, gateway, worker]) expect(s?.healthcheck?.test[0]).toBe('CMD');
  });

  it('runs Redis with AOF and noeviction', () => {
    const args = (redis?.command ?? []).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
  });

  it('documents every variable it reads in .env.example', async () => {
    const example = await readFile('.env.example', 'utf8');
    for (const name of ['GITHUB_WEBHOOK_SECRET', 'DROIDWORKS_DATA_DIR', 'DROIDWORKS_RUNNER_IMAGE', 'PORT'])
      expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('is valid for the compose CLI (`config`)', { timeout: 60_000 }, async (ctx) => {
    const cli = await composeCli();
    // The structural checks above still run; only the CLI's own validation needs it installed.
    if (!cli) return ctx.skip('no compose CLI: apt-get install docker-compose');
    const dir = await mkdtemp(join(tmpdir(), 'dw-compose-'));
    try {
      await mkdir(join(dir, 'infra'));
      await copyFile('infra/docker-compose.yml', join(dir, 'infra/docker-compose.yml'));
      await copyFile('infra/runner.Dockerfile', join(dir, 'infra/runner.Dockerfile'));
      await copyFile('.env.example', join(dir, '.env'));
      const { stdout } = await run(
        cli[0] as string,
        [
          ...cli.slice(1),
          '--env-file',
          join(dir, '.env'),
          '-f',
          join(dir, 'infra/docker-compose.yml'),
          'config',
        ],
        { cwd: dir },
      );
      const resolved = parse(stdout) as { services: Record<string, Service> };
      const volumes = JSON.stringify(resolved.services.worker?.volumes);
      expect(volumes).toContain('/var/lib/droidworks:/var/lib/droidworks');
      expect(resolved.services.gateway?.environment?.PORT).toBe('3000');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
