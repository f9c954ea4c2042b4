import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { ConfigProblem } from './config-error.js';

/**
 * YAML and zod turned into {@link ConfigProblem}s a user can act on: shared by `.droidworks.yml`
 * and workflow definitions.
 */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: ConfigProblem[] };

/**
 * Parses YAML text to plain data, or returns every syntax error as a problem whose path is its
 * position (`line 3, column 1`). `lineOffset` shifts line numbers (YAML front matter in Markdown).
 */
export function parseYaml(text: string, lineOffset = 0): Parsed<unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((err) => {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        return { path: `line ${line + lineOffset}, column ${col}`, message: `YAML syntax: ${err.message}` };
      }),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (err) {
    // toJS throws on alias bombs and similar; report it as a problem of the file.
    return { ok: false, problems: [{ path: '(root)', message: `YAML: ${(err as Error).message}` }] };
  }
}

/**
 * Validates `value` and turns every zod issue into a {@link ConfigProblem} with a readable path
 * (`services[0].image`), a message a user can act on and, where known, an example.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  examples: Readonly<Record<string, string>> = {},
): Parsed<z.output<S>> {
  const parsed = schema.safeParse(value, { error: friendlyMessage });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: issuesToProblems(parsed.error.issues, schema, examples) };
}

export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  examples: Readonly<Record<string, string>> = {},
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const field = [...path].reverse().find((p) => typeof p === 'string');
    problems.push({ path: formatPath(path), message, example: field ? examples[field] : undefined });
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        add([...issue.path, key], `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    } else if (issue.code === 'invalid_key') {
      for (const inner of issue.issues) add(issue.path, `invalid key: ${inner.message}`);
    } else {
      add(issue.path, issue.message);
    }
  }
  return problems;
}

/** `['services', 0, 'image']` → `services[0].image`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(part))) out += `${out ? '.' : ''}${String(part)}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(root)';
}

/** Messages for zod's built-in checks; a schema's own message always wins over these. */
function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      return `must be ${article(issue.expected)}, not ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      if (issue.origin === 'string')
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'object' || expected === 'record') return 'a mapping (key: value)';
  if (expected === 'array') return 'a list';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(input: unknown): string {
  if (input === null) return 'empty (null)';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `${typeof input} ${JSON.stringify(input)}`.slice(0, 60);
}

/** Field names an object schema at `path` accepts, for "did you mean" hints. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const part of [...path, undefined]) {
    for (;;) {
      if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPrefault)
        node = node.unwrap();
      else if (node instanceof z.ZodPipe) node = node.in instanceof z.ZodTransform ? node.out : node.in;
      else break;
    }
    if (part === undefined) break;
    if (node instanceof z.ZodObject && typeof part === 'string') node = node.shape[part];
    else if (node instanceof z.ZodArray && typeof part === 'number') node = node.element;
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const [w, n] = [word.toLowerCase(), name.toLowerCase()];
    // A typo, or a prefix of the right name (`retry` for `retries`).
    const distance = w.length >= 3 && n.startsWith(w) ? 1 : editDistance(w, n);
    const allowed = name.length <= 3 ? 1 : 2;
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edit distance where swapping two neighbouring letters counts as one edit (`imgae` → `image`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}
