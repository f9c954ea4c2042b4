/**
 * The fields {@link routeEvent} reads from a webhook payload, as a tree: `true` keeps the whole
 * value, an object keeps only the listed fields of an object value. Keep it in step with
 * `route-event.ts`: `read-payload.test.ts` routes every example payload of every routed event both
 * ways and fails when a field the router reads is missing here.
 */
export interface FieldTree {
  readonly [field: string]: FieldTree | true;
}

const HEAD = { head_sha: true, conclusion: true } as const;

export const ROUTED_FIELDS: FieldTree = {
  action: true,
  sha: true,
  state: true,
  repository: { owner: { login: true }, name: true, id: true, default_branch: true },
  sender: { login: true, type: true, id: true },
  installation: { id: true },
  label: { name: true },
  pull_request: { number: true, merged: true, head: { ref: true }, title: true, merge_commit_sha: true },
  issue: { number: true, title: true, pull_request: true },
  comment: { body: true, id: true, path: true, line: true },
  review: { state: true, body: true },
  check_run: HEAD,
  check_suite: HEAD,
  workflow_run: HEAD,
};

/** Thrown inside the scanner; {@link readPayload} then lets `JSON.parse` judge the text. */
class Unreadable extends Error {}

/**
 * Parses only the parts of a webhook body that routing reads. A 14 kB `issue_comment` is mostly
 * the issue, repository and user objects with their URLs, which the router never looks at; building
 * them cost more than anything else in a delivery (bench/README.md). Skipped values are stepped
 * over (strings with `indexOf`), not built. Kept values are handed to `JSON.parse` as slices, so
 * their escapes and numbers mean exactly what they mean there.
 *
 * The body was signature-checked before this runs. Skipped parts are only checked for balance, not
 * for full JSON grammar; anything the scanner cannot follow (a top level that is not an object,
 * unbalanced text, trailing data) goes to `JSON.parse` whole, which returns the same value or throws
 * the same error it always did.
 */
export function readPayload(text: string, fields: FieldTree = ROUTED_FIELDS): unknown {
  try {
    const scanner = new Scanner(text);
    const start = scanner.space(0);
    if (text.charCodeAt(start) !== OPEN_OBJECT) throw new Unreadable();
    const [value, end] = scanner.object(start, fields);
    if (scanner.space(end) !== text.length) throw new Unreadable();
    return value;
  } catch (err) {
    if (!(err instanceof Unreadable) && !(err instanceof SyntaxError)) throw err;
    return JSON.parse(text) as unknown;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

class Scanner {
  constructor(private readonly s: string) {}

  /** Index of the first non-whitespace character at or after `i`. */
  space(i: number): number {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return i;
    }
  }

  /** Index just after the string that opens at `i`. */
  stringEnd(i: number): number {
    const s = this.s;
    let j = s.indexOf('"', i + 1);
    for (;;) {
      if (j === -1) throw new Unreadable();
      let slashes = 0;
      while (s.charCodeAt(j - 1 - slashes) === BACKSLASH) slashes++;
      if (slashes % 2 === 0) return j + 1;
      j = s.indexOf('"', j + 1);
    }
  }

  /** Index just after the value that starts at `i` (balanced, not fully validated). */
  valueEnd(i: number): number {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === QUOTE) return this.stringEnd(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      let depth = 0;
      for (let j = i; j < s.length;) {
        const d = s.charCodeAt(j);
        if (d === QUOTE) {
          j = this.stringEnd(j);
          continue;
        }
        if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
        else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
          depth--;
          if (depth === 0) return j + 1;
        }
        j++;
      }
      throw new Unreadable();
    }
    // A number, true, false or null: up to the next delimiter.
    let j = i;
    for (; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || d <= 0x20) break;
    }
    if (j === i) throw new Unreadable();
    return j;
  }

  /** The object that opens at `i`, with only `fields` kept; returns it and the index after it. */
  object(i: number, fields: FieldTree): [Record<string, unknown>, number] {
    const s = this.s;
    const out: Record<string, unknown> = {};
    let j = this.space(i + 1);
    if (s.charCodeAt(j) === CLOSE_OBJECT) return [out, j + 1];
    for (;;) {
      if (s.charCodeAt(j) !== QUOTE) throw new Unreadable();
      const keyEnd = this.stringEnd(j);
      const rawKey = s.slice(j + 1, keyEnd - 1);
      const key = rawKey.includes('\\') ? (JSON.parse(s.slice(j, keyEnd)) as string) : rawKey;
      j = this.space(keyEnd);
      if (s.charCodeAt(j) !== COLON) throw new Unreadable();
      j = this.space(j + 1);
      const keep = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (keep !== undefined && keep !== true && s.charCodeAt(j) === OPEN_OBJECT) {
        const [value, end] = this.object(j, keep);
        out[key] = value;
        j = end;
      } else {
        const end = this.valueEnd(j);
        if (keep !== undefined) out[key] = JSON.parse(s.slice(j, end)) as unknown;
        j = end;
      }
      j = this.space(j);
      const c = s.charCodeAt(j);
      if (c === CLOSE_OBJECT) return [out, j + 1];
      if (c !== COMMA) throw new Unreadable();
      j = this.space(j + 1);
    }
  }
}
