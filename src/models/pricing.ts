import { readFileSync } from 'node:fs';
import { z } from 'zod';
import builtIn from './prices.json' with { type: 'json' };
import type { TokenUsage } from './types.js';

/** USD per million tokens for one model. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  /** Prompt-cache reads. @defaultValue the input price */
  readonly cachedInput?: number;
}

/** Prices by model name (`gpt-5.1`, `claude-sonnet-4-5`). */
export type PriceTable = ReadonlyMap<string, ModelPrice>;

const priceFile = z.object({
  models: z.record(
    z.string(),
    z.object({
      input: z.number().nonnegative(),
      output: z.number().nonnegative(),
      cachedInput: z.number().nonnegative().optional(),
    }),
  ),
});

export class PriceFileError extends Error {
  override readonly name = 'PriceFileError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      `price table ${path}: ${problem}. Expected {"models": {"<model>": {"input": 1.25, "output": 10, "cachedInput": 0.125}}} in USD per million tokens`,
    );
  }
}

/**
 * The built-in price table (`prices.json`), with entries from `overrideFile` (same shape) replacing
 * or adding to it. Throws {@link PriceFileError} naming the file when it is unreadable or malformed.
 */
export function loadPriceTable(overrideFile?: string): PriceTable {
  const table = new Map<string, ModelPrice>(Object.entries(priceFile.parse(builtIn).models));
  if (overrideFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(overrideFile, 'utf8'));
    } catch (err) {
      throw new PriceFileError(overrideFile, err instanceof Error ? err.message : String(err));
    }
    const parsed = priceFile.safeParse(raw);
    if (!parsed.success)
      throw new PriceFileError(
        overrideFile,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    for (const [model, price] of Object.entries(parsed.data.models)) table.set(model, price);
  }
  return table;
}

/** The price of `model`, also matching dated snapshots (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`). */
export function priceOf(table: PriceTable, model: string): ModelPrice | undefined {
  return table.get(model) ?? table.get(model.replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, ''));
}

/** Cost of one call in USD, or `null` when the model is not in the table (unknown is not free). */
export function costOf(table: PriceTable, model: string, usage: TokenUsage): number | null {
  const price = priceOf(table, model);
  if (!price) return null;
  return (
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cachedInputTokens * (price.cachedInput ?? price.input)) /
    1_000_000
  );
}
