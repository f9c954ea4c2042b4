import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { readDeployEnv, type DeployEnv } from './deploy-env.js';
import { ConfigError, type ConfigProblem } from './config-error.js';

/** Model roles a workflow step can ask for. */
export const MODEL_ROLES = ['planner', 'coder', 'reviewer', 'summarizer', 'oracle'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** Model providers droidworks has adapters for. */
export const MODEL_PROVIDERS = ['openai', 'anthropic'] as const;

/** `provider:model`, e.g. `anthropic:claude-sonnet-4-5`. */
export interface ModelRef {
  readonly provider: (typeof MODEL_PROVIDERS)[number];
  readonly model: string;
}

export type GitHubAuthConfig =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'app'; readonly appId: string; readonly privateKey: string };

/** The whole process configuration, validated once at start-up. */
export interface Config {
  readonly github: {
    /** @defaultValue `https://api.github.com` */
    readonly apiUrl: string;
    readonly auth: GitHubAuthConfig | undefined;
    readonly webhookSecret: string | undefined;
    /** Login of the bot account (App: `<slug>[bot]`); events it sends are ignored. */
    readonly botLogin: string | undefined;
  };
  readonly triggerLabel: string;
  readonly commandPrefix: string;
  /**
   * `DROIDWORKS_REPOSITORIES` (`owner/name`, lowercase): the repositories served with token auth, or
   * the ones to narrow an App's installations to. Undefined: every installation repository (App).
   */
  readonly repositories: readonly string[] | undefined;
  /** `DROIDWORKS_NPM_REGISTRY`: where dependency-update asks for newer versions. @defaultValue `https://registry.npmjs.org` */
  readonly npmRegistry: string;
  /** Unset means: spawn an embedded redis-server. */
  readonly redisUrl: string | undefined;
  readonly queuePrefix: string;
  readonly http: { readonly host: string; readonly port: number };
  /**
   * `DROIDWORKS_WEBHOOK_LANE`: serve plain webhook deliveries on the sockets, below node's HTTP
   * layer (`on`), or every request through node's `http` server (`off`). @defaultValue `on`
   */
  readonly webhookLane: boolean;
  readonly publicUrl: string | undefined;
  /** HTTP basic auth password for the run dashboard; unset: only this machine may read it. */
  readonly dashboardPassword: string | undefined;
  /**
   * Sign-in to the dashboard (either or both; with neither, `dashboardPassword` or loopback guards it).
   * `token`: `DROIDWORKS_DASHBOARD_TOKEN`, a static admin token. `oauth`: `GITHUB_CLIENT_ID` and
   * `GITHUB_CLIENT_SECRET`, the App's OAuth client (GitHub users see the repositories they can write to).
   */
  readonly dashboard: {
    readonly token: string | undefined;
    readonly oauth: { readonly clientId: string; readonly clientSecret: string } | undefined;
  };
  /**
   * Mirrors, worktrees, sandbox workspaces and the embedded Redis' files. Always absolute: a
   * relative `DROIDWORKS_DATA_DIR` is resolved against the working directory once, here (Docker
   * refuses relative bind mounts). @defaultValue `<cwd>/.droidworks`
   */
  readonly dataDir: string;
  readonly logLevel: string;
  /** OpenTelemetry traces; without a URL nothing is traced and nothing costs. */
  readonly tracing: {
    /**
     * Where spans are sent (OTLP/HTTP, JSON): `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, or
     * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
     */
    readonly url: string | undefined;
    /** `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,…`, e.g. a collector's API key). */
    readonly headers: Readonly<Record<string, string>>;
    /** `OTEL_SERVICE_NAME`. @defaultValue `droidworks` */
    readonly serviceName: string;
  };
  readonly models: {
    readonly openai: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
    readonly anthropic: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
    readonly roles: Readonly<Record<ModelRole, readonly ModelRef[]>>;
    /** Absolute path of a JSON price table that overrides the built-in one. */
    readonly pricesFile: string | undefined;
  };
  readonly sandbox: {
    readonly backend: 'docker' | 'process';
    readonly image: string;
    readonly warmPool: number;
    readonly memoryMb: number;
    readonly cpus: number;
    readonly pids: number;
    readonly commandTimeoutSec: number;
    /** Egress proxy of runs with `network.allow` (see `src/sandbox/README.md`). */
    readonly egress: {
      /** Docker network the proxy reaches allowed hosts through. @defaultValue `droidworks-egress` (created when missing) */
      readonly network: string;
      /** Operator-pinned names → addresses the proxy trusts even when private (an internal registry). */
      readonly hosts: Readonly<Record<string, string>>;
    };
    /** `DOCKER_HOST` as given (the Docker client reads it itself); named in error messages. @defaultValue the local socket */
    readonly dockerHost: string | undefined;
  };
  readonly budgets: {
    readonly maxSteps: number;
    readonly maxTokens: number;
    readonly maxCostUsd: number;
    readonly maxMinutes: number;
    /** `ask_oracle` calls per run; 0 offers no oracle. @defaultValue 3 */
    readonly maxOracleCalls: number;
  };
  readonly concurrency: { readonly global: number; readonly perRepo: number };
  readonly git: { readonly authorName: string; readonly authorEmail: string };
  /** Spare worktrees kept checked out per recently used repository. */
  readonly worktreeSpares: number;
  /** Port of the worker's `/metrics`, `/healthz` and `/readyz` (on `HOST`); unset: none. */
  readonly workerMetricsPort: number | undefined;
  /** Deploy secrets, allowed hosts and network (`src/config/deploy-env.ts`). */
  readonly deploy: DeployEnv;
}

export interface LoadConfigOptions {
  /** Which process halves will run; the gateway needs the webhook secret, the worker GitHub auth. */
  readonly require?: ReadonlyArray<'gateway' | 'worker'>;
  /** Load `.env` from this path into the result (process.env wins). @defaultValue no file */
  readonly envFile?: string;
  /** Whether a missing {@link envFile} is an error (the user named it with `--dotenv`). @defaultValue false */
  readonly envFileRequired?: boolean;
  /** Relative paths in settings are resolved against this. @defaultValue process.cwd() */
  readonly cwd?: string;
}

const DEFAULT_ROLES: Record<ModelRole, string> = {
  planner: 'anthropic:claude-opus-4-6,openai:gpt-5.1',
  coder: 'anthropic:claude-sonnet-4-6,openai:gpt-5.1',
  reviewer: 'openai:gpt-5.1,anthropic:claude-sonnet-4-6',
  summarizer: 'openai:gpt-5-mini,anthropic:claude-haiku-4-5',
  oracle: 'anthropic:claude-opus-4-6,openai:gpt-5.1',
};

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);
const positive = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
  .transform(Number);
const url = z.url({ message: 'must be an absolute URL' });
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });
const MODEL_ENTRY = new RegExp(`^(${MODEL_PROVIDERS.join('|')}):\\S+$`);
const modelList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .superRefine((list, ctx) => {
    if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one provider:model' });
    for (const entry of list)
      if (!MODEL_ENTRY.test(entry))
        ctx.addIssue({
          code: 'custom',
          message: `entry "${entry}" is not provider:model; the provider must be one of ${MODEL_PROVIDERS.join(', ')}`,
        });
  })
  .transform((list) => list.map(parseModelRef));

/** `name=address,name2=address2`: names the egress proxy resolves to these addresses, trusted. */
const egressHosts = z.string().transform((raw, ctx) => {
  const out: Record<string, string> = {};
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, address, ...rest] = item.split('=').map((s) => s.trim());
    if (!name || !address || rest.length > 0 || isIP(address) === 0 || !/^[a-z0-9.-]+$/i.test(name))
      ctx.addIssue({ code: 'custom', message: `"${item}" must be name=IP address` });
    else out[name.toLowerCase()] = address;
  }
  return out;
});

/** `key=value,key2=value2` (values URL-encoded), as the OpenTelemetry specification writes headers. */
const otlpHeaders = z.string().transform((raw, ctx) => {
  const out: Record<string, string> = {};
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = item.indexOf('=');
    const key = at > 0 ? item.slice(0, at).trim() : '';
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      ctx.addIssue({ code: 'custom', message: 'must be key=value pairs separated by commas' });
      continue;
    }
    // Percent-escapes decoded byte by byte (header values are ASCII).
    out[key.toLowerCase()] = item
      .slice(at + 1)
      .trim()
      .replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return out;
});

const EXAMPLES: Record<string, string> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
  OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc123',
  DROIDWORKS_EGRESS_HOSTS: 'registry.internal=10.0.0.5,npm.internal=10.0.0.6',
  GITHUB_API_URL: 'https://github.example.com/api/v3',
  GITHUB_APP_ID: '123456',
  GITHUB_PRIVATE_KEY_PATH: '/etc/droidworks/app.pem',
  GITHUB_WEBHOOK_SECRET: 'a-long-random-string',
  GITHUB_TOKEN: 'ghp_…',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PORT: '3000',
  DROIDWORKS_PUBLIC_URL: 'https://droidworks.example.com',
  DROIDWORKS_SANDBOX: 'docker',
  DROIDWORKS_MODEL_CODER: 'anthropic:claude-sonnet-4-5,openai:gpt-5.1',
  DROIDWORKS_WORKER_METRICS_PORT: '9464',
};

const schema = z.object({
  GITHUB_API_URL: url.default('https://api.github.com'),
  GITHUB_TOKEN: z.string().min(1).optional(),
  GITHUB_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric App ID').optional(),
  GITHUB_PRIVATE_KEY: z.string().optional(),
  GITHUB_PRIVATE_KEY_PATH: z.string().optional(),
  GITHUB_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  DROIDWORKS_BOT_LOGIN: z.string().optional(),
  DROIDWORKS_TRIGGER_LABEL: z.string().min(1).default('droid'),
  DROIDWORKS_COMMAND_PREFIX: z.string().regex(/^\S+$/, 'must be one word without spaces').default('/droid'),
  DROIDWORKS_NPM_REGISTRY: url.default('https://registry.npmjs.org'),
  DROIDWORKS_REPOSITORIES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^[\w.-]+\/[\w.-]+$/,
            'must be a comma-separated list of owner/name, e.g. acme/api,acme/web',
          ),
      ),
    )
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  DROIDWORKS_QUEUE_PREFIX: z.string().min(1).default('droidworks'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(0, 65535).default(3000),
  DROIDWORKS_WEBHOOK_LANE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  DROIDWORKS_PUBLIC_URL: url.optional(),
  DROIDWORKS_DASHBOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  DROIDWORKS_DASHBOARD_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  DROIDWORKS_DATA_DIR: z.string().default('.droidworks'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders.default({}),
  OTEL_SERVICE_NAME: z.string().min(1).default('droidworks'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url.optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: url.optional(),
  DROIDWORKS_MODEL_PLANNER: modelList.prefault(DEFAULT_ROLES.planner),
  DROIDWORKS_MODEL_CODER: modelList.prefault(DEFAULT_ROLES.coder),
  DROIDWORKS_MODEL_REVIEWER: modelList.prefault(DEFAULT_ROLES.reviewer),
  DROIDWORKS_MODEL_SUMMARIZER: modelList.prefault(DEFAULT_ROLES.summarizer),
  DROIDWORKS_MODEL_ORACLE: modelList.prefault(DEFAULT_ROLES.oracle),
  DROIDWORKS_PRICES_FILE: z.string().optional(),
  DROIDWORKS_SANDBOX: z.enum(['docker', 'process']).default('docker'),
  DROIDWORKS_RUNNER_IMAGE: z.string().min(1).default('droidworks/runner:bookworm-1'),
  DOCKER_HOST: z.string().optional(),
  DROIDWORKS_WARM_POOL: int(0, 64).default(0),
  DROIDWORKS_WORKTREE_SPARES: int(0, 8).default(0),
  DROIDWORKS_SANDBOX_MEMORY_MB: int(64, 1_048_576).default(2048),
  DROIDWORKS_SANDBOX_CPUS: positive.default(2),
  DROIDWORKS_SANDBOX_PIDS: int(16, 100_000).default(512),
  DROIDWORKS_EGRESS_NETWORK: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker network name')
    .default('droidworks-egress'),
  DROIDWORKS_EGRESS_HOSTS: egressHosts.default({}),
  DROIDWORKS_COMMAND_TIMEOUT_SEC: int(1, 86_400).default(600),
  DROIDWORKS_MAX_STEPS: int(1, 10_000).default(60),
  DROIDWORKS_MAX_TOKENS: int(1_000, 1_000_000_000).default(2_000_000),
  DROIDWORKS_MAX_COST_USD: positive.default(5),
  DROIDWORKS_MAX_MINUTES: int(1, 1440).default(30),
  DROIDWORKS_MAX_ORACLE_CALLS: int(0, 100).default(3),
  DROIDWORKS_CONCURRENCY: int(1, 256).default(2),
  DROIDWORKS_CONCURRENCY_PER_REPO: int(1, 256).default(2),
  DROIDWORKS_GIT_AUTHOR_NAME: z.string().default('droidworks[bot]'),
  DROIDWORKS_GIT_AUTHOR_EMAIL: z.string().default('droidworks[bot]@users.noreply.github.com'),
  DROIDWORKS_WORKER_METRICS_PORT: int(0, 65535).optional(),
});

export function parseModelRef(entry: string): ModelRef {
  const i = entry.indexOf(':');
  return { provider: entry.slice(0, i) as ModelRef['provider'], model: entry.slice(i + 1) };
}

/**
 * Reads every setting from `env` (and an optional `.env` file), validates it,
 * and returns the typed configuration or throws ONE {@link ConfigError} listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  const merged = {
    ...readEnvFile(options.envFile && absolute(options.envFile), options.envFileRequired),
    ...env,
  };
  // Treat empty strings as unset, as shells and compose files often export them.
  const cleaned = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems: ConfigProblem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = String(issue.path[0] ?? '(root)');
      problems.push({ path, message: issue.message, example: EXAMPLES[path] });
    }
    // Still say what is missing, so one message lists every problem.
    problems.push(
      ...missingRequired(
        options.require,
        cleaned.GITHUB_WEBHOOK_SECRET,
        Boolean(cleaned.GITHUB_TOKEN || cleaned.GITHUB_APP_ID),
      ),
    );
    throw new ConfigError(problems);
  }
  const e = parsed.data;

  let privateKey = e.GITHUB_PRIVATE_KEY?.replace(/\\n/g, '\n');
  let keySource = 'GITHUB_PRIVATE_KEY';
  const keyPath = e.GITHUB_PRIVATE_KEY_PATH && absolute(e.GITHUB_PRIVATE_KEY_PATH);
  if (!privateKey && keyPath) {
    keySource = 'GITHUB_PRIVATE_KEY_PATH';
    try {
      privateKey = readFileSync(keyPath, 'utf8');
    } catch (err) {
      problems.push({
        path: 'GITHUB_PRIVATE_KEY_PATH',
        message: `cannot read ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        example: EXAMPLES.GITHUB_PRIVATE_KEY_PATH,
      });
    }
  }
  if (privateKey && e.GITHUB_APP_ID) {
    const problem = privateKeyProblem(privateKey);
    if (problem) {
      problems.push({
        path: keySource,
        message: `${keySource === 'GITHUB_PRIVATE_KEY_PATH' ? `${keyPath} ` : ''}is not a usable PEM private key (${problem}); download a new one from the GitHub App's settings page`,
        example: keySource === 'GITHUB_PRIVATE_KEY_PATH' ? EXAMPLES.GITHUB_PRIVATE_KEY_PATH : undefined,
      });
      privateKey = undefined;
    }
  }
  let auth: GitHubAuthConfig | undefined;
  if (e.GITHUB_APP_ID) {
    if (privateKey) auth = { kind: 'app', appId: e.GITHUB_APP_ID, privateKey };
    else if (!problems.some((p) => p.path.startsWith('GITHUB_PRIVATE_KEY')))
      problems.push({
        path: 'GITHUB_PRIVATE_KEY',
        message: 'GITHUB_APP_ID is set, so the App private key is required (or GITHUB_PRIVATE_KEY_PATH)',
        example: '"-----BEGIN RSA PRIVATE KEY-----\\n…"',
      });
  } else if (e.GITHUB_TOKEN) {
    auth = { kind: 'token', token: e.GITHUB_TOKEN };
  }

  const deploy = readDeployEnv(cleaned, problems);
  if (Boolean(e.GITHUB_CLIENT_ID) !== Boolean(e.GITHUB_CLIENT_SECRET))
    problems.push({
      path: e.GITHUB_CLIENT_ID ? 'GITHUB_CLIENT_SECRET' : 'GITHUB_CLIENT_ID',
      message:
        'GitHub sign-in to the dashboard needs both the OAuth client id and secret (the App settings page, "Client secrets")',
      example: e.GITHUB_CLIENT_ID ? 'GITHUB_CLIENT_SECRET=0123456789abcdef…' : 'GITHUB_CLIENT_ID=Iv23li…',
    });
  problems.push(
    ...missingRequired(
      options.require,
      e.GITHUB_WEBHOOK_SECRET,
      auth !== undefined || problems.some((p) => p.path.startsWith('GITHUB_PRIVATE_KEY')),
    ),
  );
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    github: {
      apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
      auth,
      webhookSecret: e.GITHUB_WEBHOOK_SECRET,
      botLogin: e.DROIDWORKS_BOT_LOGIN,
    },
    triggerLabel: e.DROIDWORKS_TRIGGER_LABEL,
    commandPrefix: e.DROIDWORKS_COMMAND_PREFIX,
    repositories: e.DROIDWORKS_REPOSITORIES,
    npmRegistry: e.DROIDWORKS_NPM_REGISTRY.replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    queuePrefix: e.DROIDWORKS_QUEUE_PREFIX,
    http: { host: e.HOST, port: e.PORT },
    webhookLane: e.DROIDWORKS_WEBHOOK_LANE === 'on',
    publicUrl: e.DROIDWORKS_PUBLIC_URL,
    dashboardPassword: e.DROIDWORKS_DASHBOARD_PASSWORD,
    dashboard: {
      token: e.DROIDWORKS_DASHBOARD_TOKEN,
      oauth:
        e.GITHUB_CLIENT_ID && e.GITHUB_CLIENT_SECRET
          ? { clientId: e.GITHUB_CLIENT_ID, clientSecret: e.GITHUB_CLIENT_SECRET }
          : undefined,
    },
    dataDir: absolute(e.DROIDWORKS_DATA_DIR),
    logLevel: e.LOG_LEVEL,
    tracing: {
      url:
        e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
        (e.OTEL_EXPORTER_OTLP_ENDPOINT && `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`),
      headers: e.OTEL_EXPORTER_OTLP_HEADERS,
      serviceName: e.OTEL_SERVICE_NAME,
    },
    models: {
      openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL },
      anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL },
      roles: {
        planner: e.DROIDWORKS_MODEL_PLANNER,
        coder: e.DROIDWORKS_MODEL_CODER,
        reviewer: e.DROIDWORKS_MODEL_REVIEWER,
        summarizer: e.DROIDWORKS_MODEL_SUMMARIZER,
        oracle: e.DROIDWORKS_MODEL_ORACLE,
      },
      pricesFile: e.DROIDWORKS_PRICES_FILE && absolute(e.DROIDWORKS_PRICES_FILE),
    },
    sandbox: {
      backend: e.DROIDWORKS_SANDBOX,
      image: e.DROIDWORKS_RUNNER_IMAGE,
      warmPool: e.DROIDWORKS_WARM_POOL,
      memoryMb: e.DROIDWORKS_SANDBOX_MEMORY_MB,
      cpus: e.DROIDWORKS_SANDBOX_CPUS,
      pids: e.DROIDWORKS_SANDBOX_PIDS,
      commandTimeoutSec: e.DROIDWORKS_COMMAND_TIMEOUT_SEC,
      egress: { network: e.DROIDWORKS_EGRESS_NETWORK, hosts: e.DROIDWORKS_EGRESS_HOSTS },
      dockerHost: e.DOCKER_HOST,
    },
    budgets: {
      maxSteps: e.DROIDWORKS_MAX_STEPS,
      maxTokens: e.DROIDWORKS_MAX_TOKENS,
      maxCostUsd: e.DROIDWORKS_MAX_COST_USD,
      maxMinutes: e.DROIDWORKS_MAX_MINUTES,
      maxOracleCalls: e.DROIDWORKS_MAX_ORACLE_CALLS,
    },
    concurrency: { global: e.DROIDWORKS_CONCURRENCY, perRepo: e.DROIDWORKS_CONCURRENCY_PER_REPO },
    worktreeSpares: e.DROIDWORKS_WORKTREE_SPARES,
    workerMetricsPort: e.DROIDWORKS_WORKER_METRICS_PORT,
    git: { authorName: e.DROIDWORKS_GIT_AUTHOR_NAME, authorEmail: e.DROIDWORKS_GIT_AUTHOR_EMAIL },
    deploy,
  };
}

/** What the requested process halves need and the environment lacks. */
function missingRequired(
  require: LoadConfigOptions['require'],
  webhookSecret: string | undefined,
  hasCredentials: boolean,
): ConfigProblem[] {
  const required = new Set(require ?? []);
  const problems: ConfigProblem[] = [];
  if (required.has('gateway') && !webhookSecret)
    problems.push({
      path: 'GITHUB_WEBHOOK_SECRET',
      message: 'is required to verify webhook signatures',
      example: EXAMPLES.GITHUB_WEBHOOK_SECRET,
    });
  if (required.has('worker') && !hasCredentials)
    problems.push({
      path: 'GITHUB_TOKEN',
      message: 'GitHub credentials are required: set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_PRIVATE_KEY',
      example: EXAMPLES.GITHUB_TOKEN,
    });
  return problems;
}

/** Why `pem` cannot be used as the App's private key, or undefined when it can. */
function privateKeyProblem(pem: string): string | undefined {
  if (!pem.includes('-----BEGIN')) return 'no -----BEGIN … PRIVATE KEY----- block';
  try {
    createPrivateKey(pem);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^error:\S+:/, '').trim() : String(err);
  }
}

/**
 * Reads a `.env` file with Node's own parser. A missing file is no error unless `required`
 * (the user named it explicitly): then it is one {@link ConfigError} naming the option.
 */
export function readEnvFile(path: string | undefined, required = false): Record<string, string> {
  if (!path) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return {};
    throw new ConfigError(
      [
        {
          path: '--dotenv',
          message: `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`,
          example: '/etc/droidworks/droidworks.env',
        },
      ],
      'the command line',
    );
  }
}
