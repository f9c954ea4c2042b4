import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, MODEL_PROVIDERS, type Config, type LoadConfigOptions } from '../config/load-config.js';
import { createGitHubHost } from '../github/create-github-host.js';
import { checkGitHubAccess } from '../github/reachability.js';
import { loadPriceTable, priceOf } from '../models/pricing.js';
import { openRedis } from '../queue/redis-connection.js';
import { checkDocker } from '../sandbox/check-docker.js';
import { checkOtlpEndpoint } from '../telemetry/check-otlp-endpoint.js';
import { buildRunnerImageCommand } from './package-files.js';
import { isUserFacing } from './user-facing.js';

type Check = { name: string; ok: boolean; detail: string; fix?: string };

async function check(name: string, fn: () => Promise<string>, fix: string): Promise<Check> {
  try {
    return { name, ok: true, detail: await fn() };
  } catch (err) {
    // A user-facing error already says what to fix.
    return {
      name,
      ok: false,
      detail: err instanceof Error ? err.message : String(err),
      fix: isUserFacing(err) ? undefined : fix,
    };
  }
}

/**
 * Loads the configuration; when some settings are invalid, reports them and loads again without
 * them (their defaults apply), so every other check still runs.
 */
function loadForDoctor(
  env: NodeJS.ProcessEnv,
  dotenv: Pick<LoadConfigOptions, 'envFile' | 'envFileRequired'>,
): { config: Config; problems: ConfigError | undefined } {
  let current = { ...env };
  let options = { ...dotenv };
  let first: ConfigError | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return { config: loadConfig(current, options), problems: first };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      first ??= err;
      const paths = new Set(err.problems.map((p) => p.path));
      if (paths.has('--dotenv')) options = {};
      current = Object.fromEntries(Object.entries(current).filter(([k]) => !paths.has(k)));
    }
  }
  return { config: loadConfig({}), problems: first };
}

/** `droidworks doctor`: checks each dependency and prints what is missing and how to fix it. */
export async function runDoctor(
  env: NodeJS.ProcessEnv,
  dotenv: Pick<LoadConfigOptions, 'envFile' | 'envFileRequired'>,
): Promise<number> {
  const { config, problems } = loadForDoctor(env, dotenv);
  const checks: Check[] = [];
  checks.push(
    problems
      ? {
          name: 'configuration',
          ok: false,
          detail: `${problems.message}\n    (the checks below use the defaults of these settings)`,
          fix: 'correct the settings listed, as the examples show',
        }
      : { name: 'configuration', ok: true, detail: 'every setting is valid' },
  );
  checks.push(
    await check(
      'redis',
      async () => {
        if (!config.redisUrl) {
          await promisify(execFile)('redis-server', ['--version'], { timeout: 5000 });
          return 'REDIS_URL unset: `droidworks start` will run an embedded redis-server';
        }
        const redis = await openRedis(config.redisUrl, { role: 'producer' });
        try {
          const info = await redis.info('server');
          return `reachable, redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
        } finally {
          redis.disconnect();
        }
      },
      'set REDIS_URL to a Redis 6.2+ server, or unset it and install redis-server (apt-get install -y redis-server)',
    ),
  );
  checks.push(
    await check(
      'github',
      async () => {
        if (!config.github.auth) throw new Error('no credentials');
        const host = createGitHubHost(config.github, { retry: { retries: 0 }, timeoutMs: 10_000 });
        const login = await checkGitHubAccess(host, config.github.apiUrl, config.github.auth.kind);
        return `authenticated as ${login} (${config.github.auth.kind}) at ${config.github.apiUrl}`;
      },
      'set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_PRIVATE_KEY / GITHUB_PRIVATE_KEY_PATH; GITHUB_API_URL for GitHub Enterprise',
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
        const docker = await checkDocker(config.sandbox, { timeoutMs: 10_000 });
        if (!docker.imagePresent)
          throw new Error(
            `Docker ${docker.version} is up, but the runner image ${config.sandbox.image} is missing: build it with ${buildRunnerImageCommand()}`,
          );
        return `Docker ${docker.version}, runner image ${config.sandbox.image}, data directory ${config.dataDir}`;
      },
      'install docker.io, start dockerd and give this user the docker group; build the runner image',
    ),
  );
  checks.push(
    await check(
      'models',
      async () => {
        const keyed = {
          openai: Boolean(config.models.openai.apiKey || config.models.openai.baseUrl),
          anthropic: Boolean(config.models.anthropic.apiKey),
        };
        const configured = MODEL_PROVIDERS.filter((p) => keyed[p]);
        if (configured.length === 0) throw new Error('no model provider configured');
        const roleless = Object.entries(config.models.roles)
          .filter(([, refs]) => !refs.some((r) => keyed[r.provider]))
          .map(([role]) => role);
        if (roleless.length > 0)
          throw new Error(
            `no key for any model of role(s) ${roleless.join(', ')}: add the provider's key or list a keyed provider in DROIDWORKS_MODEL_${roleless[0]!.toUpperCase()}`,
          );
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
        return `providers: ${configured.join(', ')}; coder → ${config.models.roles.coder.map((m) => `${m.provider}:${m.model}`).join(', ')}`;
      },
      'set ANTHROPIC_API_KEY and/or OPENAI_API_KEY (OPENAI_BASE_URL for vLLM, Ollama, OpenRouter…)',
    ),
  );
  if (config.tracing.url)
    checks.push(
      await check(
        'traces',
        () => checkOtlpEndpoint(config.tracing),
        'point OTEL_EXPORTER_OTLP_ENDPOINT at an OpenTelemetry collector (OTLP/HTTP, port 4318), or unset it',
      ),
    );
  for (const c of checks) {
    console.log(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
