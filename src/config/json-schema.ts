import { z } from 'zod';
import { definitionSchema } from '../workflows/parse-workflow.js';
import { repoConfigSchema } from './repo-config.js';

/** The files droidworks publishes a JSON Schema for. */
export const SCHEMA_KINDS = ['config', 'workflow'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

/** Where each schema is published in the package (`schema/` is in `files`). */
export const SCHEMA_FILES: Readonly<Record<SchemaKind, string>> = {
  config: 'schema/droidworks-config.schema.json',
  workflow: 'schema/workflow.schema.json',
};

const TITLES: Readonly<Record<SchemaKind, { title: string; description: string }>> = {
  config: {
    title: '.droidworks.yml',
    description: "A repository's droidworks settings, read from its default branch.",
  },
  workflow: {
    title: 'droidworks workflow',
    description:
      'A workflow definition (`workflows/*.yml`, `.droidworks/workflows/*.yml`, or the front matter of a `.md` one). Without `name`, the file name is the name.',
  },
};

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema (draft-07, what yaml-language-server and most editors read best) of a file
 * droidworks reads, generated from the zod schema that validates it: never written by hand.
 * `stepKinds` are the step implementations that exist (`Object.keys(STEP_IMPLS)`); without them any
 * kebab-case step kind is accepted.
 *
 * The schemas describe what a user may WRITE (zod's input side). One rule bridges what JSON Schema
 * cannot say: our `z.preprocess` steps only ever turn a single value into a list (`install: npm ci`,
 * `command: run`, `coder: openai:gpt-5.1`), so a preprocessed list also accepts one item.
 */
export function jsonSchemaFor(kind: SchemaKind, stepKinds?: readonly string[]): JsonSchema {
  // A workflow file may leave out its name: the loader takes the file name.
  const schema = kind === 'config' ? repoConfigSchema : definitionSchema(stepKinds).partial({ name: true });
  const generated = z.toJSONSchema(schema, {
    target: 'draft-7',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type !== 'pipe' || def.in._zod.def.type !== 'transform') return;
      const list = { ...(jsonSchema as JsonSchema) };
      if (list.type !== 'array' || typeof list.items !== 'object') return;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as JsonSchema)[key];
      Object.assign(jsonSchema, { anyOf: [commaList(list.items as JsonSchema), list] });
    },
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return { $schema, $id: `https://unpkg.com/droidworks/${SCHEMA_FILES[kind]}`, ...TITLES[kind], ...rest };
}

/**
 * The one-value form of a preprocessed list: a string the loader splits on commas
 * (`coder: anthropic:claude-sonnet-4-6, openai:gpt-5.1`), so an anchored item pattern is repeated.
 */
function commaList(item: JsonSchema): JsonSchema {
  const pattern = item.pattern;
  if (item.type !== 'string' || typeof pattern !== 'string' || !/^\^.*\$$/.test(pattern)) return item;
  const one = pattern.slice(1, -1);
  return { ...item, pattern: `^\\s*(?:${one})(?:\\s*,\\s*(?:${one}))*\\s*$` };
}

/** `jsonSchemaFor(kind)` as the published file's text (2-space JSON and a final newline). */
export function jsonSchemaText(kind: SchemaKind, stepKinds?: readonly string[]): string {
  return `${JSON.stringify(jsonSchemaFor(kind, stepKinds), null, 2)}\n`;
}
