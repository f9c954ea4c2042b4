import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { MODEL_ROLES, type ModelRole } from '../config/load-config.js';
import { budgetsSchema, modelList, type BudgetOverrides } from '../config/repo-config.js';
import { parseYaml, validate } from '../config/schema-problems.js';
import type { RoleOverrides } from '../models/router.js';

/**
 * One configuration under evaluation: which models each role uses (the same `provider:model` lists
 * as `DROIDWORKS_MODEL_*`) and optional budgets. Roles it leaves out use the server's lists.
 */
export interface EvalConfig {
  /** @defaultValue the file name without its extension */
  readonly name: string;
  readonly roles: RoleOverrides;
  readonly budgets: BudgetOverrides;
  /** Hash of the parsed settings: results are kept per hash, so an edited file is run again. */
  readonly hash: string;
}

const evalConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, dots, dashes or underscores')
    .optional(),
  models: z
    .strictObject(
      Object.fromEntries(MODEL_ROLES.map((r) => [r, modelList.optional()])) as Record<
        ModelRole,
        z.ZodOptional<typeof modelList>
      >,
    )
    .prefault({}),
  budgets: budgetsSchema.prefault({}),
});

/** Parses an eval config's YAML text; every problem is listed at once with its field path. */
export function parseEvalConfig(text: string, source: string): EvalConfig {
  const yaml = parseYaml(text);
  if (!yaml.ok) throw new ConfigError(yaml.problems, source);
  const result = validate(evalConfigSchema, yaml.value ?? {}, {
    coder: 'anthropic:claude-sonnet-4-6,openai:gpt-5.1',
    maxCostUsd: '2',
  });
  if (!result.ok) throw new ConfigError(result.problems, source);
  const { name, models, budgets } = result.value;
  const roles = Object.fromEntries(
    Object.entries(models).filter(([, v]) => v !== undefined),
  ) as RoleOverrides;
  const hash = createHash('sha256').update(JSON.stringify({ roles, budgets })).digest('hex').slice(0, 12);
  return { name: name ?? basename(source, extname(source)), roles, budgets, hash };
}

export async function readEvalConfig(path: string): Promise<EvalConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [{ path, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` }],
      'the eval config',
    );
  }
  return parseEvalConfig(text, path);
}
