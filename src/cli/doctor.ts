import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type Config } from '../config/load-config.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { loadPriceTable, priceOf } from '../models/pricing.js';
import { createRedisConnection } from '../queue/redis-connection.js';

type Check = { name: string; ok: boolean; detail: string; fix?: string };

async function check(name: string, fn: () => Promise<string>, fix: string): Promise<Check> {
  try {
    return { name, ok: true, detail: await fn() };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err), fix };
  }
}

/** `droidworks doctor`: checks each dependency and prints what is missing and how to fix it. */
export async function runDoctor(env: NodeJS.ProcessEnv, envFile: string): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env, { envFile });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.log(`✗ configuration\n${err.message}`);
    return 1;
  }
  const checks: Check[] = [];
  checks.push(
    await check(
      'redis',
      async () => {
        if (!config.redisUrl) {
          await promisify(execFile)('redis-server', ['--version']);
          return 'REDIS_URL unset: `droidworks start` will run an embedded redis-server';
        }
        const redis = createRedisConnection(config.redisUrl, { role: 'producer' });
        try {
          await new Promise((resolve, reject) => {
            redis.once('ready', resolve);
            redis.once('error', reject);
          });
          const info = await redis.info('server');
          return `reachable, redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
        } finally {
          redis.disconnect();
        }
      },
      'set REDIS_URL to a Redis 6.2+ server, or install redis-server (apt-get install -y redis-server)',
    ),
  );
  checks.push(
    await check(
      'github',
      async () => {
        if (!config.github.auth) throw new Error('no credentials');
        const login = await createGitHubHost(config.github).getAuthenticatedLogin();
        return `authenticated as ${login} (${config.github.auth.kind}) at ${config.github.apiUrl}`;
      },
      'set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_PRIVATE_KEY / GITHUB_PRIVATE_KEY_PATH',
    ),
  );
  checks.push(
    await check(
      'webhook secret',
      async () => {
        if (!config.github.webhookSecret) throw new Error('GITHUB_WEBHOOK_SECRET is not set');
        return 'set';
      },
      'set GITHUB_WEBHOOK_SECRET to the secret configured on the GitHub App or webhook',
    ),
  );
  checks.push(
    await check(
      'sandbox',
      async () => {
        if (config.sandbox.backend === 'process')
          return 'process backend: NOTHING IS ISOLATED (development only)';
        const { stdout } = await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], {
          timeout: 10_000,
        });
        await promisify(execFile)('docker', ['image', 'inspect', config.sandbox.image], {
          timeout: 10_000,
        }).catch(() => {
          throw new Error(
            `Docker ${stdout.trim()} is up, but the runner image ${config.sandbox.image} is missing`,
          );
        });
        return `Docker ${stdout.trim()}, runner image ${config.sandbox.image}`;
      },
      'install docker.io and start dockerd (scripts/setup.sh does both, and builds the runner image)',
    ),
  );
  checks.push(
    await check(
      'models',
      async () => {
        const keys = [
          config.models.openai.apiKey || config.models.openai.baseUrl ? 'openai' : undefined,
          config.models.anthropic.apiKey ? 'anthropic' : undefined,
        ].filter(Boolean);
        if (keys.length === 0) throw new Error('no model provider configured');
        const prices = loadPriceTable(config.models.pricesFile);
        const unpriced = [
          ...new Set(
            Object.values(config.models.roles)
              .flat()
              .map((m) => m.model),
          ),
        ].filter((m) => !priceOf(prices, m));
        if (unpriced.length > 0)
          console.log(
            `! models without a price (their cost shows as unknown and the USD budget cannot count them; the token budget still holds): ${unpriced.join(', ')}. Add them with DROIDWORKS_PRICES_FILE.`,
          );
        return `providers: ${keys.join(', ')}; coder → ${config.models.roles.coder.map((m) => `${m.provider}:${m.model}`).join(', ')}`;
      },
      'set ANTHROPIC_API_KEY and/or OPENAI_API_KEY (OPENAI_BASE_URL for vLLM, Ollama, OpenRouter…)',
    ),
  );
  for (const c of checks) {
    console.log(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
