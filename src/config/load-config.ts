import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error.js';

/** Model roles a workflow step can ask for. */
export const MODEL_ROLES = ['planner', 'coder', 'reviewer', 'summarizer'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** `provider:model`, e.g. `anthropic:claude-sonnet-4-5`. */
export interface ModelRef {
  readonly provider: 'openai' | 'anthropic';
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
  readonly publicUrl: string | undefined;
  /** HTTP basic auth password for the run dashboard; unset: only this machine may read it. */
  readonly dashboardPassword: string | undefined;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly models: {
    readonly openai: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
    readonly anthropic: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
    readonly roles: Readonly<Record<ModelRole, readonly ModelRef[]>>;
    /** Path of a JSON price table that overrides the built-in one. */
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
  };
  readonly budgets: {
    readonly maxSteps: number;
    readonly maxTokens: number;
    readonly maxCostUsd: number;
    readonly maxMinutes: number;
  };
  readonly concurrency: { readonly global: number; readonly perRepo: number };
  readonly git: { readonly authorName: string; readonly authorEmail: string };
  /** Spare worktrees kept checked out per recently used repository. */
  readonly worktreeSpares: number;
}

export interface LoadConfigOptions {
  /** Which process halves will run; the gateway needs the webhook secret, the worker GitHub auth. */
  readonly require?: ReadonlyArray<'gateway' | 'worker'>;
  /** Load `.env` from this path into the result (process.env wins). @defaultValue no file */
  readonly envFile?: string;
}

const DEFAULT_ROLES: Record<ModelRole, string> = {
  planner: 'anthropic:claude-opus-4-6,openai:gpt-5.1',
  coder: 'anthropic:claude-sonnet-4-6,openai:gpt-5.1',
  reviewer: 'openai:gpt-5.1,anthropic:claude-sonnet-4-6',
  summarizer: 'openai:gpt-5-mini,anthropic:claude-haiku-4-5',
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
const modelList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^(openai|anthropic):\S+$/, 'entries must look like provider:model'))
      .min(1, 'needs at least one provider:model'),
  )
  .transform((list) => list.map(parseModelRef));

const EXAMPLES: Record<string, string> = {
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
  DROIDWORKS_PUBLIC_URL: url.optional(),
  DROIDWORKS_DASHBOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  DROIDWORKS_DATA_DIR: z.string().default('.droidworks'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url.optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: url.optional(),
  DROIDWORKS_MODEL_PLANNER: modelList.prefault(DEFAULT_ROLES.planner),
  DROIDWORKS_MODEL_CODER: modelList.prefault(DEFAULT_ROLES.coder),
  DROIDWORKS_MODEL_REVIEWER: modelList.prefault(DEFAULT_ROLES.reviewer),
  DROIDWORKS_MODEL_SUMMARIZER: modelList.prefault(DEFAULT_ROLES.summarizer),
  DROIDWORKS_PRICES_FILE: z.string().optional(),
  DROIDWORKS_SANDBOX: z.enum(['docker', 'process']).default('docker'),
  DROIDWORKS_RUNNER_IMAGE: z.string().min(1).default('droidworks/runner:bookworm-1'),
  DROIDWORKS_WARM_POOL: int(0, 64).default(0),
  DROIDWORKS_WORKTREE_SPARES: int(0, 8).default(0),
  DROIDWORKS_SANDBOX_MEMORY_MB: int(64, 1_048_576).default(2048),
  DROIDWORKS_SANDBOX_CPUS: positive.default(2),
  DROIDWORKS_SANDBOX_PIDS: int(16, 100_000).default(512),
  DROIDWORKS_COMMAND_TIMEOUT_SEC: int(1, 86_400).default(600),
  DROIDWORKS_MAX_STEPS: int(1, 10_000).default(60),
  DROIDWORKS_MAX_TOKENS: int(1_000, 1_000_000_000).default(2_000_000),
  DROIDWORKS_MAX_COST_USD: positive.default(5),
  DROIDWORKS_MAX_MINUTES: int(1, 1440).default(30),
  DROIDWORKS_CONCURRENCY: int(1, 256).default(2),
  DROIDWORKS_CONCURRENCY_PER_REPO: int(1, 256).default(2),
  DROIDWORKS_GIT_AUTHOR_NAME: z.string().default('droidworks[bot]'),
  DROIDWORKS_GIT_AUTHOR_EMAIL: z.string().default('droidworks[bot]@users.noreply.github.com'),
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
  const merged = { ...readEnvFile(options.envFile), ...env };
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
  if (!privateKey && e.GITHUB_PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(e.GITHUB_PRIVATE_KEY_PATH, 'utf8');
    } catch (err) {
      problems.push({
        path: 'GITHUB_PRIVATE_KEY_PATH',
        message: `cannot read ${e.GITHUB_PRIVATE_KEY_PATH}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        example: EXAMPLES.GITHUB_PRIVATE_KEY_PATH,
      });
    }
  }
  let auth: GitHubAuthConfig | undefined;
  if (e.GITHUB_APP_ID) {
    if (privateKey) auth = { kind: 'app', appId: e.GITHUB_APP_ID, privateKey };
    else if (!e.GITHUB_PRIVATE_KEY_PATH)
      problems.push({
        path: 'GITHUB_PRIVATE_KEY',
        message: 'GITHUB_APP_ID is set, so the App private key is required (or GITHUB_PRIVATE_KEY_PATH)',
        example: '"-----BEGIN RSA PRIVATE KEY-----\\n…"',
      });
  } else if (e.GITHUB_TOKEN) {
    auth = { kind: 'token', token: e.GITHUB_TOKEN };
  }

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
    publicUrl: e.DROIDWORKS_PUBLIC_URL,
    dashboardPassword: e.DROIDWORKS_DASHBOARD_PASSWORD,
    dataDir: e.DROIDWORKS_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    models: {
      openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL },
      anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL },
      roles: {
        planner: e.DROIDWORKS_MODEL_PLANNER,
        coder: e.DROIDWORKS_MODEL_CODER,
        reviewer: e.DROIDWORKS_MODEL_REVIEWER,
        summarizer: e.DROIDWORKS_MODEL_SUMMARIZER,
      },
      pricesFile: e.DROIDWORKS_PRICES_FILE,
    },
    sandbox: {
      backend: e.DROIDWORKS_SANDBOX,
      image: e.DROIDWORKS_RUNNER_IMAGE,
      warmPool: e.DROIDWORKS_WARM_POOL,
      memoryMb: e.DROIDWORKS_SANDBOX_MEMORY_MB,
      cpus: e.DROIDWORKS_SANDBOX_CPUS,
      pids: e.DROIDWORKS_SANDBOX_PIDS,
      commandTimeoutSec: e.DROIDWORKS_COMMAND_TIMEOUT_SEC,
    },
    budgets: {
      maxSteps: e.DROIDWORKS_MAX_STEPS,
      maxTokens: e.DROIDWORKS_MAX_TOKENS,
      maxCostUsd: e.DROIDWORKS_MAX_COST_USD,
      maxMinutes: e.DROIDWORKS_MAX_MINUTES,
    },
    concurrency: { global: e.DROIDWORKS_CONCURRENCY, perRepo: e.DROIDWORKS_CONCURRENCY_PER_REPO },
    worktreeSpares: e.DROIDWORKS_WORKTREE_SPARES,
    git: { authorName: e.DROIDWORKS_GIT_AUTHOR_NAME, authorEmail: e.DROIDWORKS_GIT_AUTHOR_EMAIL },
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

/** Reads an optional `.env` file with Node's own parser; a missing file is no error. */
function readEnvFile(path: string | undefined): Record<string, string> {
  if (!path) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}
