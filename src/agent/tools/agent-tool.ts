import { z } from 'zod';
import type { ToolSpec } from '../../models/types.js';
import type { CommandExecutor } from '../../sandbox/types.js';

/** What a tool can reach during a run. */
export interface ToolContext {
  /** The workspace root on the host, a real path. */
  readonly workspace: string;
  /** Absolute paths the model may use for the root (where the sandbox mounts it). */
  readonly aliases: readonly string[];
  readonly executor: CommandExecutor;
  readonly signal: AbortSignal;
  /** Per-command timeout for `bash`. @defaultValue the executor's own */
  readonly commandTimeoutMs?: number;
  /** Earlier contents per file (null: did not exist), for `undo_edit`. */
  readonly editHistory: Map<string, Array<string | null>>;
}

/** A tool's result, as data: failures never throw out of the loop. */
export type ToolOutcome =
  | { readonly ok: true; readonly output: string; readonly finish?: { readonly summary: string } }
  | { readonly ok: false; readonly error: string };

/** A tool offered to the model: its JSON Schema, and a call that validates its own arguments. */
export interface AgentTool {
  readonly spec: ToolSpec;
  invoke(args: unknown, ctx: ToolContext): Promise<ToolOutcome>;
}

/**
 * Defines a tool from a zod input schema: the schema becomes the JSON Schema the model sees, and
 * arguments are validated with it before `run`. Invalid JSON, invalid arguments and anything `run`
 * throws come back as `{ ok: false, error }` for the model to read.
 */
export function defineTool<S extends z.ZodType<Record<string, unknown>>>(definition: {
  name: string;
  description: string;
  input: S;
  run(input: z.output<S>, ctx: ToolContext): Promise<ToolOutcome>;
}): AgentTool {
  const spec: ToolSpec = {
    name: definition.name,
    description: definition.description,
    inputSchema: toModelSchema(definition.input),
  };
  return {
    spec,
    async invoke(args, ctx) {
      let value = args;
      if (typeof args === 'string') {
        try {
          value = args.trim() === '' ? {} : JSON.parse(args);
        } catch (err) {
          return {
            ok: false,
            error: `the arguments for ${definition.name} are not valid JSON (${(err as Error).message}); send one JSON object matching the tool's schema`,
          };
        }
      }
      const parsed = definition.input.safeParse(value);
      if (!parsed.success)
        return {
          ok: false,
          error: `invalid arguments for ${definition.name}:\n${z.prettifyError(parsed.error)}`,
        };
      try {
        return await definition.run(parsed.data, ctx);
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

/** zod → JSON Schema without the noise models do not need (`$schema`, safe-integer bounds). */
function toModelSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return clean(json) as Record<string, unknown>;
}

function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (
      (k === 'minimum' && v === Number.MIN_SAFE_INTEGER) ||
      (k === 'maximum' && v === Number.MAX_SAFE_INTEGER)
    )
      continue;
    out[k] = clean(v);
  }
  return out;
}
