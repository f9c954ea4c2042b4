import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { ConfigProblem } from '../config/config-error.js';
import { MODEL_ROLES, type ModelRole } from '../config/load-config.js';
import { budgetsSchema, type BudgetOverrides } from '../config/repo-config.js';
import { parseYaml, validate } from '../config/schema-problems.js';
import { COMMAND_VERBS, type CommandVerb } from '../gateway/parse-command.js';

/**
 * A step's kind. The kinds that exist are the engine's step implementations (`STEP_IMPLS` in
 * `src/steps/index.ts`); the loader passes their names in, so there is no second list here.
 */
export type StepKind = string;

/** What a workflow may do on GitHub (and beyond); the engine refuses any other effect. */
export const PERMISSIONS = ['comment', 'push', 'open_pr', 'label', 'check_run', 'deploy'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Facts about an event's subject that an event trigger can require (`trigger.when`):
 * `merged` (a closed pull request was merged), `droid-pull` (the pull request is on a droid branch).
 */
export const EVENT_CONDITIONS = ['merged', 'droid-pull'] as const;
export type EventCondition = (typeof EVENT_CONDITIONS)[number];

/** Written as `label: $triggerLabel`, it means the server's configured trigger label. */
export const TRIGGER_LABEL_PLACEHOLDER = '$triggerLabel';

/** Role a step gets when the definition names none. */
export const DEFAULT_STEP_ROLES: Readonly<Partial<Record<StepKind, ModelRole>>> = {
  plan: 'planner',
  code: 'coder',
  review: 'reviewer',
};
/** Steps that call a model, so may name a role (publish and report may use the summarizer). */
const MODEL_STEPS: ReadonlySet<StepKind> = new Set(['plan', 'code', 'review', 'publish', 'report']);
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** Permissions a step cannot work without. */
const REQUIRED_PERMISSIONS: Readonly<Partial<Record<StepKind, readonly Permission[]>>> = {
  publish: ['push', 'open_pr'],
  deploy: ['deploy'],
  rollback: ['deploy'],
  'stale-branches': ['comment', 'push'],
  'flaky-tests': ['comment', 'label'],
  'dependency-update': ['push', 'open_pr'],
};

/** When a workflow starts. At least one of `label`, `command`, `event`, `schedule`. */
export interface WorkflowTrigger {
  /** An issue or PR gets this label; {@link TRIGGER_LABEL_PLACEHOLDER} is the configured one. */
  readonly label?: string;
  /** `/droid <verb>` comments. */
  readonly command?: readonly CommandVerb[];
  /** Webhook `event.action` names, e.g. `pull_request_review.submitted`. */
  readonly event?: readonly string[];
  /**
   * Runs on a schedule for every served repository that has the workflow: written as a cron string
   * (5 fields, or 6 with seconds first, or `@daily`-style) or `{ cron, timezone, jitterSec }`.
   */
  readonly schedule?: ScheduleSpec;
  /** Conditions every `event` match must also meet; labels, commands and schedules ignore them. @defaultValue `[]` */
  readonly when: readonly EventCondition[];
}

/** A schedule trigger, normalised. */
export interface ScheduleSpec {
  readonly cron: string;
  /** IANA time zone. @defaultValue UTC */
  readonly timezone?: string;
  /** Spread of start times in seconds. @defaultValue 0 */
  readonly jitterSec?: number;
}

export interface WorkflowStep {
  readonly step: StepKind;
  /** Model role; plan, code and review get planner, coder and reviewer when not given. */
  readonly role?: ModelRole;
  /** Options for the step itself (e.g. `{ branch: existing }` for checkout). @defaultValue `{}` */
  readonly with: Readonly<Record<string, unknown>>;
  /** Extra attempts after a failure. @defaultValue 0 */
  readonly retries: number;
  /**
   * `success`: only when every earlier step succeeded; `failure`: only after one failed (a rollback);
   * `always`: either way (a report). @defaultValue `'success'`
   */
  readonly if: 'success' | 'failure' | 'always';
}

/** A validated workflow definition, from the built-in `workflows/` or a repository's `.droidworks/workflows/`. */
export interface WorkflowDefinition {
  /** kebab-case, unique; a repository's workflow with a built-in's name replaces it. @defaultValue the file name */
  readonly name: string;
  readonly description: string;
  readonly trigger: WorkflowTrigger;
  /** What the triggering subject must be. @defaultValue `'any'` */
  readonly on: 'issue' | 'pull' | 'any';
  readonly steps: readonly WorkflowStep[];
  /** Limits over the repository's and the server's. @defaultValue `{}` */
  readonly budgets: BudgetOverrides;
  /** @defaultValue `[]`: nothing */
  readonly permissions: readonly Permission[];
  /** Instructions for the agent (a Markdown definition's body). */
  readonly prompt?: string;
  /** File it came from, for messages. */
  readonly source: string;
  readonly origin: 'builtin' | 'repository';
}

const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item));

const CRON_FIELD = /^[\d*/,?LW#A-Za-z-]+$/;
const cron = z.string().refine((s) => {
  const trimmed = s.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(trimmed)) return true;
  const fields = trimmed.split(/\s+/);
  return (fields.length === 5 || fields.length === 6) && fields.every((f) => CRON_FIELD.test(f));
}, 'must be a cron expression with 5 or 6 fields (e.g. "0 3 * * 1") or @daily');

const scheduleSpec = z.union(
  [
    cron.transform((c): ScheduleSpec => ({ cron: c.trim() })),
    z.strictObject({
      cron,
      timezone: z.string().trim().min(1).optional(),
      jitterSec: z.int().min(0).max(86_400).optional(),
    }),
  ],
  { error: 'must be a cron string or { cron, timezone, jitterSec }' },
);

/**
 * Steps of a repository prompt workflow that gives none: its body is the prompt, run through the
 * same steps as an issue.
 */
export const PROMPT_WORKFLOW_STEPS = [
  { step: 'checkout' },
  { step: 'code' },
  { step: 'test' },
  { step: 'review', with: { rounds: 1 } },
  { step: 'publish' },
  { step: 'report', if: 'always' },
] as const;
const PROMPT_WORKFLOW_PERMISSIONS = ['comment', 'push', 'open_pr', 'check_run'] as const;

const trigger = z
  .strictObject({
    label: z.string().trim().min(1, 'must not be empty').optional(),
    command: listOf(z.enum(COMMAND_VERBS)).optional(),
    event: listOf(
      z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'must be event.action, e.g. pull_request_review.submitted'),
    ).optional(),
    schedule: scheduleSpec.optional(),
    when: listOf(z.enum(EVENT_CONDITIONS)).default([]),
  })
  .refine(
    (t) =>
      t.label !== undefined || t.command !== undefined || t.event !== undefined || t.schedule !== undefined,
    'needs at least one of label, command, event or schedule',
  );

/** A step kind: any kebab-case word, or one of `kinds` when the caller knows them. */
function stepKind(kinds: readonly string[] | undefined) {
  if (!kinds) return z.string().regex(KEBAB, 'must be a step kind in kebab-case, e.g. code');
  const message = `must be one of: ${kinds.join(', ')}`;
  return z.enum(kinds as [string, ...string[]], { error: message });
}

const stepSchema = (kinds: readonly string[] | undefined) =>
  z
    .strictObject({
      step: stepKind(kinds),
      role: z.enum(MODEL_ROLES).optional(),
      with: z.record(z.string(), z.unknown()).default({}),
      retries: z.int().min(0).max(10).default(0),
      if: z.enum(['success', 'failure', 'always']).default('success'),
    })
    .superRefine((s, ctx) => {
      if (s.role !== undefined && !MODEL_STEPS.has(s.step))
        ctx.addIssue({
          code: 'custom',
          path: ['role'],
          message: `${s.step} does not use a model, so takes no role`,
        });
    })
    .transform((s): WorkflowStep => {
      const role = s.role ?? DEFAULT_STEP_ROLES[s.step];
      return role === undefined ? s : { ...s, role };
    });

const stepsSchema = (kinds: readonly string[] | undefined) =>
  z.array(stepSchema(kinds)).min(1, 'needs at least one step');
const permissionsSchema = z.array(z.enum(PERMISSIONS)).transform((list) => [...new Set(list)]);

export const definitionSchema = (kinds: readonly string[] | undefined) =>
  z.strictObject({
    name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case (lowercase words joined by -)'),
    description: z.string().trim().min(1, 'must not be empty'),
    trigger,
    on: z.enum(['issue', 'pull', 'any']).default('any'),
    steps: stepsSchema(kinds),
    budgets: budgetsSchema.prefault({}),
    permissions: permissionsSchema.default([]),
    prompt: z.string().trim().min(1, 'must not be empty').optional(),
  });

const EXAMPLES: Record<string, string> = {
  name: 'resolve-issue',
  step: 'code',
  role: 'coder',
  permissions: '[comment, push, open_pr]',
  on: 'issue',
};

export interface ParseWorkflowOptions {
  /**
   * The step kinds that exist (the engine passes `Object.keys(STEP_IMPLS)`); a definition naming
   * another is invalid. @defaultValue any kebab-case word (syntax only)
   */
  readonly stepKinds?: Iterable<string>;
}

export type ParsedWorkflow =
  | { readonly ok: true; readonly workflow: WorkflowDefinition }
  | {
      readonly ok: false;
      readonly problems: ConfigProblem[];
      /** The workflow name the file meant to define, when it could be read. */
      readonly name?: string;
    };

/**
 * Parses one definition file: YAML (`.yml`, `.yaml`), or Markdown (`.md`) whose YAML front matter is
 * the definition and whose body is its `prompt`. Without a `name`, the file name (minus extension)
 * is the name. Returns the definition or every problem found; never a half-valid definition. Pure.
 */
export function parseWorkflow(
  content: string,
  source: string,
  origin: WorkflowDefinition['origin'] = 'repository',
  options: ParseWorkflowOptions = {},
): ParsedWorkflow {
  const kinds = options.stepKinds ? [...options.stepKinds] : undefined;
  const ext = extname(source).toLowerCase();
  let yamlText = content;
  let lineOffset = 0;
  let body: string | undefined;
  if (ext === '.md') {
    const split = splitFrontMatter(content);
    if (!split) {
      return {
        ok: false,
        problems: [
          {
            path: '(front matter)',
            message: 'a Markdown workflow starts with YAML front matter between --- lines',
          },
        ],
      };
    }
    ({ yamlText, body } = split);
    lineOffset = 1;
  } else if (ext !== '.yml' && ext !== '.yaml') {
    return { ok: false, problems: [{ path: '(file)', message: 'a workflow is a .yml, .yaml or .md file' }] };
  }

  const yaml = parseYaml(yamlText, lineOffset);
  if (!yaml.ok) return yaml;
  const raw = yaml.value ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, problems: [{ path: '(root)', message: 'must be a mapping (key: value)' }] };

  const input: Record<string, unknown> = { ...raw };
  input.name ??= basename(source, extname(source));
  const trig = input.trigger as Record<string, unknown> | undefined;
  if (input.steps === undefined && trig?.schedule !== undefined && typeof input.prompt !== 'string' && body) {
    // A scheduled prompt workflow: the body runs through the issue steps.
    input.steps = PROMPT_WORKFLOW_STEPS;
    input.permissions ??= [...PROMPT_WORKFLOW_PERMISSIONS];
  }
  const problems: ConfigProblem[] = [];
  if (body !== undefined && body !== '') {
    if (input.prompt !== undefined)
      problems.push({ path: 'prompt', message: 'given twice: in the front matter and as the Markdown body' });
    else input.prompt = body;
  }

  const result = validate(definitionSchema(kinds), input, EXAMPLES);
  if (!result.ok) problems.push(...result.problems);
  problems.push(...permissionProblems(input.steps, input.permissions, kinds));
  if (!result.ok || problems.length > 0)
    return typeof input.name === 'string'
      ? { ok: false, problems, name: input.name }
      : { ok: false, problems };
  return { ok: true, workflow: { ...result.value, source, origin } };
}

/** Steps whose effects are not permitted, checked even when other fields are invalid. */
function permissionProblems(
  rawSteps: unknown,
  rawPermissions: unknown,
  kinds: readonly string[] | undefined,
): ConfigProblem[] {
  const steps = stepsSchema(kinds).safeParse(rawSteps);
  const permissions = permissionsSchema.safeParse(rawPermissions ?? []);
  if (!steps.success || !permissions.success) return [];
  const granted = new Set(permissions.data);
  const problems: ConfigProblem[] = [];
  steps.data.forEach((s, i) => {
    const missing = (REQUIRED_PERMISSIONS[s.step] ?? []).filter((p) => !granted.has(p));
    if (missing.length > 0)
      problems.push({
        path: 'permissions',
        message: `missing ${missing.join(', ')}, needed by step ${s.step} (steps[${i}])`,
        example: EXAMPLES.permissions,
      });
  });
  return problems;
}

/** `---\n<yaml>\n---\n<body>` → its parts; undefined when the text has no front matter. */
function splitFrontMatter(text: string): { yamlText: string; body: string } | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return undefined;
  const end = lines.findIndex((line, i) => i > 0 && (line.trim() === '---' || line.trim() === '...'));
  if (end < 0) return undefined;
  return {
    yamlText: lines.slice(1, end).join('\n'),
    body: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}
