import { z } from 'zod';

/** What an accepted webhook asks the worker to look at. Routed by {@link routeEvent}. */
export const INTAKE_KINDS = [
  'label',
  'unlabel',
  'closed',
  'command',
  'merge',
  'ci',
  'review',
  /** Served repositories or their schedules may have changed: re-sync the job schedulers. */
  'sync',
  /** The maintenance dashboard issue was edited (a ticked checkbox runs its workflow). */
  'dashboard',
] as const;
export type IntakeKind = (typeof INTAKE_KINDS)[number];

const repoRef = z.object({
  owner: z.string().min(1),
  name: z.string().min(1),
  id: z.number().int().optional(),
  defaultBranch: z.string().optional(),
});
export type RepoRef = z.infer<typeof repoRef>;

const subjectRef = z.object({
  type: z.enum(['issue', 'pull']),
  number: z.number().int().positive(),
  /** Head branch of a pull request. */
  headRef: z.string().optional(),
  title: z.string().optional(),
});
export type SubjectRef = z.infer<typeof subjectRef>;

/**
 * The payload of an intake job: just enough of the webhook for the worker to authorize the sender
 * and decide what to run. No secrets, no full webhook payload (BullMQ stores payloads in clear).
 */
export const intakeJobSchema = z.object({
  kind: z.enum(INTAKE_KINDS),
  deliveryId: z.string().min(1),
  event: z.string().min(1),
  action: z.string().optional(),
  repo: repoRef,
  installationId: z.number().int().optional(),
  sender: z.object({ login: z.string(), id: z.number().int().optional() }),
  subject: subjectRef.optional(),
  commentId: z.number().int().optional(),
  /** Command lines found in a comment (never the rest of the comment), at most 5 of 64 kB. */
  commands: z.array(z.string().max(65_536)).max(5).optional(),
  /** Command lines of the comment left out by the per-comment cap. */
  commandsIgnored: z.number().int().min(0).optional(),
  /** Review text for `review` jobs, capped. */
  text: z.string().max(65_536).optional(),
  sha: z.string().optional(),
  /** CI conclusion or state for `ci` jobs. */
  conclusion: z.string().optional(),
  receivedAt: z.number(),
  /**
   * Set by the gateway for a command pressed on the dashboard by its admin (signed in with
   * `DROIDWORKS_DASHBOARD_TOKEN`): no GitHub account to check, so the worker skips the permission
   * check. Never set from webhook data.
   */
  dashboardAdmin: z.literal(true).optional(),
});
export type IntakeJob = z.infer<typeof intakeJobSchema>;

export const WORKFLOW_NAMES = [
  'resolve-issue',
  'pr-command',
  'review-iterate',
  'deploy',
  'stale-branches',
  'flaky-tests',
  'dependency-update',
] as const;

/** A workflow run: the expensive job. At most one is waiting or active per subject. */
export const runJobSchema = z.object({
  runId: z.string().min(1),
  workflow: z.string().min(1),
  repo: repoRef,
  installationId: z.number().int().optional(),
  subject: subjectRef,
  /** Who asked (for the report; authorization already happened). */
  requestedBy: z.string(),
  /** Extra instructions (`/droid fix …`, review text). Untrusted text: fenced as data in prompts. */
  instructions: z.string().max(65_536).optional(),
  /** Branch to work on when iterating on an existing PR. */
  branch: z.string().optional(),
  deliveryId: z.string().optional(),
  queuedAt: z.number(),
  /** What a `deploy` workflow run deploys (`src/engine/deploy-intake.ts`); no secrets. */
  deploy: z
    .object({
      action: z.enum(['deploy', 'rollback']),
      /** Commit to deploy (undefined for a rollback). */
      sha: z
        .string()
        .regex(/^[0-9a-f]{40}$/)
        .optional(),
      /** Only this environment (`/droid deploy production`); undefined = all, in order. */
      environment: z.string().optional(),
      /** Order of deploy runs of a repository: a newer waiting one supersedes this one. */
      seq: z.number().int().nonnegative(),
    })
    .optional(),
  /**
   * Set for scheduled maintenance runs (the subject is the repository's dashboard issue): what
   * started it. Runs with the same `exclusive` key never run at once.
   */
  maintenance: z
    .object({
      trigger: z.enum(['schedule', 'command', 'dashboard']),
      tickAt: z.number().optional(),
    })
    .optional(),
  exclusive: z.string().optional(),
  /** The dependency group a `dependency-update` run proposes (`group: none | by-scope`); undefined = `all`. */
  dependencyGroup: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i)
    .optional(),
});
export type RunJob = z.infer<typeof runJobSchema>;

/** Id of the intake job for one delivery: a redelivered webhook maps to the same job. */
export function intakeJobId(deliveryId: string): string {
  return `delivery-${deliveryId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** Key every run of one issue or PR shares, whatever the workflow. */
export function subjectKey(
  repo: Pick<RepoRef, 'owner' | 'name'>,
  subject: Pick<SubjectRef, 'number'>,
): string {
  return `${repo.owner}/${repo.name}#${subject.number}`.toLowerCase();
}

/**
 * Id of the run job for an issue or PR, derived from what it is about: while a run of that subject
 * waits or runs, a second trigger (a redelivery, the label removed and re-added) adds nothing.
 * Finished run jobs are removed, so a later trigger starts a new run; the ledger keeps history.
 */
export function runJobId(repo: Pick<RepoRef, 'owner' | 'name'>, subject: Pick<SubjectRef, 'number'>): string {
  return `run@${subjectKey(repo, subject)}`;
}
