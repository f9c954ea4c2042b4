import { z } from 'zod';

/**
 * The `deploy:` block of `.droidworks.yml`. The names are a contract with users (see the README's
 * `deploy:` section); the TypeScript types are derived from the schema, never kept twice.
 */

const int = (min: number, max: number) => z.int().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** `secret: NAME` means the server's `DROIDWORKS_SECRET_NAME`; only the suffix is written here. */
const secretName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be a secret name: capital letters, digits and _ (DEPLOY_HOOK)');
const commandLine = z.string().trim().min(1, 'must not be empty');

const webhookDeployer = z.strictObject({
  url: httpUrl,
  secret: secretName,
  /** A 2xx within this many seconds means done. @defaultValue 300 */
  timeoutSec: int(1, 3600).default(300),
});

const workflowDeployer = z.strictObject({
  /** Workflow file name in `.github/workflows/` (`deploy.yml`) or its id. */
  file: z.string().trim().min(1, 'must name the workflow file, e.g. deploy.yml'),
  /** Branch or tag the workflow runs from. @defaultValue the default branch */
  ref: z.string().trim().min(1).optional(),
  /** Extra inputs; `sha`, `environment` and `action` are added. */
  inputs: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])))
    .default({}),
  /** How long the workflow run may take. @defaultValue 1800 */
  timeoutSec: int(1, 86_400).default(1800),
});

const commandDeployer = z.preprocess(
  (v) => (typeof v === 'string' ? { run: v } : v),
  z.strictObject({
    /** Shell command run in the container, in the checkout of the SHA. */
    run: commandLine,
    /** @defaultValue the runner image */
    image: z.string().trim().min(1).optional(),
    /** Secrets given to this container only, as environment variables named as written. */
    secrets: z.array(secretName).max(50).default([]),
    /** @defaultValue 600 */
    timeoutSec: int(1, 86_400).default(600),
  }),
);

/** `webhook` | `workflow` | `command`: exactly one (checked below, with a message naming them). */
const deployerSchema = z
  .strictObject({
    webhook: webhookDeployer.optional(),
    workflow: workflowDeployer.optional(),
    command: commandDeployer.optional(),
  })
  .superRefine((d, ctx) => {
    const named = (['webhook', 'workflow', 'command'] as const).filter((k) => d[k] !== undefined);
    if (named.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          named.length === 0
            ? 'must name one deployer: webhook, workflow or command'
            : `must name exactly one deployer, not ${named.join(' and ')}`,
      });
  });

const healthSchema = z
  .strictObject({
    url: httpUrl.optional(),
    expectStatus: int(100, 599).default(200),
    bodyContains: z.string().min(1).optional(),
    /** Shell command run like a `command` deployer; exit 0 = a passing probe. */
    command: commandLine.optional(),
    /** A PromQL query; a non-empty result whose every value is non-zero = a passing probe. */
    prometheus: z.strictObject({ url: httpUrl, query: z.string().trim().min(1) }).optional(),
    intervalSec: z.number().min(0.05).max(3600).default(2),
    successes: int(1, 1000).default(3),
    failures: int(1, 1000).default(3),
    timeoutSec: int(1, 86_400).default(120),
  })
  .superRefine((h, ctx) => {
    if (!h.url && !h.command && !h.prometheus)
      ctx.addIssue({ code: 'custom', message: 'needs at least one of url, command or prometheus' });
  });

const environmentSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a short name: letters, digits, ., _ and -'),
  /** Shown as the deployment's `environment_url`. */
  url: httpUrl.optional(),
  deployer: deployerSchema,
  /** @defaultValue the deployer again, with `action: rollback` */
  rollback: deployerSchema.optional(),
  health: healthSchema.optional(),
  requireApproval: z.boolean().default(false),
  soakSec: z.number().min(0).max(86_400).default(0),
  autoRollback: z.boolean().default(true),
  production: z.boolean().default(false),
});

export const deploySchema = z.strictObject({
  /** `merge`: any PR merged into the default branch; `droid`: droid PRs only; `command`: `/droid deploy` only. */
  on: z.enum(['merge', 'droid', 'command']).default('merge'),
  /** Check-run names / status contexts that must pass; `[]` = every one reported on the commit. */
  requireChecks: z.array(z.string().min(1)).default([]),
  gateTimeoutMinutes: int(1, 10_080).default(60),
  environments: z
    .array(environmentSchema)
    .min(1, 'needs at least one environment')
    .superRefine(
      (envs, ctx) => {
        const seen = new Set<string>();
        envs.forEach((e, i) => {
          const name = (e as { name?: unknown } | null)?.name;
          if (typeof name !== 'string') return;
          if (seen.has(name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate environment "${name}"` });
          seen.add(name);
        });
      },
      { when: (p) => Array.isArray(p.value) },
    ),
});

export type DeployConfig = z.output<typeof deploySchema>;
export type DeployEnvironmentConfig = DeployConfig['environments'][number];
export type DeployerConfig = DeployEnvironmentConfig['deployer'];
export type HealthConfig = NonNullable<DeployEnvironmentConfig['health']>;

/** Examples shown next to problems in the `deploy:` block, by field name. */
export const DEPLOY_EXAMPLES: Readonly<Record<string, string>> = {
  secret: 'DEPLOY_HOOK',
  file: 'deploy.yml',
  deployer: '{ webhook: { url: https://deploy.example.com/hook, secret: DEPLOY_HOOK } }',
  on: 'merge',
};
