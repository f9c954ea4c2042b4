import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { parseYaml, validate } from './schema-problems.js';
import { parseModelRef, type ModelRef, type ModelRole } from './load-config.js';
import { DEPLOY_EXAMPLES, deploySchema, type DeployConfig } from './deploy-config.js';

export type { DeployConfig, DeployEnvironmentConfig } from './deploy-config.js';
import {
  limitsSchema,
  maintenanceSchema,
  type LimitsConfig,
  type MaintenanceConfig,
} from './maintenance-config.js';

/** Per-run limits; any one left out falls back to the server's `DROIDWORKS_MAX_*` setting. */
export interface BudgetOverrides {
  /** Agent tool-loop steps, 1–10000. */
  readonly maxSteps?: number;
  /** Model tokens in and out, 1000–1e9. */
  readonly maxTokens?: number;
  /** Model cost in US dollars, above 0 and at most 1000. */
  readonly maxCostUsd?: number;
  /** Wall-clock minutes for the whole run, 1–1440. */
  readonly maxMinutes?: number;
  /** `ask_oracle` calls in the whole run, 0–100 (0: no oracle). */
  readonly maxOracleCalls?: number;
}

/** A sidecar container started next to the sandbox, reachable by its `name` as a host name. */
export interface ServiceConfig {
  /** DNS label (`db`, `redis-cache`): the host name the sandbox reaches it by. */
  readonly name: string;
  readonly image: string;
  /** Numbers and booleans in YAML are turned into strings. @defaultValue `{}` */
  readonly env: Readonly<Record<string, string>>;
  /** Overrides the image's command. @defaultValue the image's own */
  readonly command?: readonly string[];
  /** Command run inside the service until it exits 0 before tests start. @defaultValue none (started is ready) */
  readonly health?: string;
}

/** A repository's own settings, from `.droidworks.yml` on its default branch. */
export interface RepoConfig {
  /** Sandbox image for this repository. @defaultValue the server's `DROIDWORKS_RUNNER_IMAGE` (undefined here) */
  readonly image?: string;
  /** Commands run once after checkout (a string is one command). @defaultValue `[]` */
  readonly install: readonly string[];
  /** Commands that run the tests (a string is one command). @defaultValue `[]`: the test step decides */
  readonly test: readonly string[];
  /** Sidecar containers (databases, caches) for the tests. @defaultValue `[]` */
  readonly services: readonly ServiceConfig[];
  /**
   * Outbound network from the sandbox, through an egress proxy: host names (`registry.npmjs.org`:
   * ports 80 and 443; `*.pypi.org`: its subdomains; `host:port`: that port only). A name resolving to
   * a private or loopback address is refused unless the operator pinned it (`DROIDWORKS_EGRESS_HOSTS`).
   * @defaultValue `{ allow: [] }`: none
   */
  readonly network: { readonly allow: readonly string[] };
  /** Extra guidance for the agent, added to its prompt. @defaultValue none */
  readonly instructions?: string;
  /** Per-role ordered `provider:model` lists that replace the server's for this repository. @defaultValue `{}` */
  readonly models: Readonly<Partial<Record<ModelRole, readonly ModelRef[]>>>;
  /** Tighter (or looser, within bounds) limits than the server's. @defaultValue `{}` */
  readonly budgets: BudgetOverrides;
  /** Rounds of code → test before giving up, 1–10. @defaultValue 3 */
  readonly testRounds: number;
  /** Wait for `/droid approve` after planning. @defaultValue false */
  readonly planApproval: boolean;
  /** How long a plan waits for approval, 1–10080. @defaultValue 1440 (a day) */
  readonly approvalTimeoutMinutes: number;
  /** Tests never went green: open a `draft` PR with the failure report, or `none`. @defaultValue `'draft'` */
  readonly onTestsFailing: 'draft' | 'none';
  /** Labels put on the issue at the end of a run. @defaultValue `{ done: 'droid:done', failed: 'droid:failed' }` */
  readonly labels: { readonly done: string; readonly failed: string };
  /** Deployment environments and gates (`src/config/deploy-config.ts`). @defaultValue none (no deployments) */
  readonly deploy?: DeployConfig;
  /** Built-in maintenance workflows to run on a schedule, and their monthly cost ceiling. */
  readonly maintenance: MaintenanceConfig;
  /** Droid maintenance PRs per repository (open at once, opened per day). */
  readonly limits: LimitsConfig;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;
const MODEL_ENTRY = /^(openai|anthropic):\S+$/;

/** Run a list check even when some entries are invalid, so every problem is listed at once. */
const everyList = { when: (payload: { value: unknown }) => Array.isArray(payload.value) };

const command = z.string().trim().min(1, 'must not be empty');
/** A command or a list of commands, always returned as a list. */
const commands = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z.array(command, { error: 'must be a command or a list of commands' }).max(50),
);
const int = (min: number, max: number) => z.int().min(min).max(max);
const label = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'GitHub labels are at most 50 characters');

/** Shared with workflow definitions: every limit optional and bounded. */
export const budgetsSchema = z.strictObject({
  maxSteps: int(1, 10_000).optional(),
  maxTokens: int(1_000, 1_000_000_000).optional(),
  maxCostUsd: z.number().gt(0, 'must be above 0').max(1000).optional(),
  maxMinutes: int(1, 1440).optional(),
  maxOracleCalls: int(0, 100).optional(),
});

export const modelList = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((e) => e.trim()) : v),
    z
      .array(z.string().regex(MODEL_ENTRY, 'must look like provider:model (openai or anthropic)'), {
        error: 'must be a list of provider:model entries',
      })
      .min(1, 'needs at least one provider:model'),
  )
  .transform((list) => list.map(parseModelRef));

const service = z.strictObject({
  name: z.string().regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and dashes'),
  image: z.string().trim().min(1, 'must not be empty'),
  env: z
    .record(
      z.string().regex(ENV_NAME, 'environment variable names are letters, digits and _'),
      z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' }),
    )
    .transform((env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])))
    .default({}),
  command: z.array(z.string(), { error: 'must be a list of arguments' }).min(1).optional(),
  health: command.optional(),
});

export const repoConfigSchema = z.strictObject({
  image: z.string().trim().min(1, 'must not be empty').optional(),
  install: commands.default([]),
  test: commands.default([]),
  services: z
    .array(service)
    .max(10, 'at most 10 services')
    .superRefine((list, ctx) => duplicates(list, 'service', ctx), everyList)
    .default([]),
  network: z
    .strictObject({
      allow: z
        .array(z.string().regex(HOST_PATTERN, 'must be a host name, *.domain or host:port'))
        .default([]),
    })
    .prefault({}),
  instructions: z.string().max(20_000).optional(),
  models: z
    .strictObject({
      planner: modelList.optional(),
      coder: modelList.optional(),
      reviewer: modelList.optional(),
      summarizer: modelList.optional(),
      oracle: modelList.optional(),
    } satisfies Record<ModelRole, z.ZodType>)
    .prefault({}),
  budgets: budgetsSchema.prefault({}),
  testRounds: int(1, 10).default(3),
  planApproval: z.boolean().default(false),
  approvalTimeoutMinutes: int(1, 10_080).default(1440),
  onTestsFailing: z.enum(['draft', 'none']).default('draft'),
  labels: z
    .strictObject({ done: label.default('droid:done'), failed: label.default('droid:failed') })
    .prefault({}),
  deploy: deploySchema.optional(),
  maintenance: maintenanceSchema.prefault({}),
  limits: limitsSchema.prefault({}),
});

const EXAMPLES: Record<string, string> = {
  image: 'node:22-bookworm',
  install: 'npm ci',
  test: 'npm test',
  name: 'db',
  health: 'pg_isready -U postgres',
  allow: 'registry.npmjs.org',
  planner: 'anthropic:claude-opus-4-5',
  coder: 'anthropic:claude-sonnet-4-6',
  reviewer: 'openai:gpt-5.1',
  summarizer: 'openai:gpt-5-mini',
  onTestsFailing: 'draft',
  url: 'https://staging.example.com/healthz',
  ...DEPLOY_EXAMPLES,
  update: 'minor',
  group: 'all',
};

/**
 * Parses and validates a repository's `.droidworks.yml`. An empty file is all defaults.
 * Throws ONE {@link ConfigError} (its `source` is the file name) listing every problem: YAML syntax
 * errors with their line and column, then every invalid or unknown field by its path
 * (`services[0].image: Required`). Pure: no I/O.
 */
export function parseRepoConfig(text: string, source = '.droidworks.yml'): RepoConfig {
  const yaml = parseYaml(text);
  if (!yaml.ok) throw new ConfigError(yaml.problems, source);
  const value = yaml.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      [{ path: '(root)', message: 'must be a mapping of settings (key: value)' }],
      source,
    );
  const result = validate(repoConfigSchema, value, EXAMPLES);
  if (!result.ok) throw new ConfigError(result.problems, source);
  const config: RepoConfig = result.value; // the schema's output must satisfy the documented interface
  return config;
}

/** The settings of a repository without a `.droidworks.yml`. */
export const DEFAULT_REPO_CONFIG: RepoConfig = parseRepoConfig('');

function duplicates(items: readonly unknown[], what: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    if (seen.has(name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} name "${name}"` });
    seen.add(name);
  });
}
