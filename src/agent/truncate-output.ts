export interface TruncateOptions {
  /** Longest output kept, in characters. @defaultValue 12000 */
  readonly maxChars?: number;
  /** Most lines kept. @defaultValue 300 */
  readonly maxLines?: number;
  /** Share of the kept lines/characters taken from the start; the rest from the end. @defaultValue 0.5 */
  readonly headShare?: number;
}

/**
 * Bounds a tool observation: keeps the head and the tail and puts one line in between saying how
 * much was cut. Pure; short text comes back unchanged.
 */
export function truncateOutput(text: string, options: TruncateOptions = {}): string {
  const maxChars = options.maxChars ?? 12_000;
  const maxLines = options.maxLines ?? 300;
  const headShare = options.headShare ?? 0.5;
  let out = text;

  const lines = out.split('\n');
  if (lines.length > maxLines) {
    const head = Math.max(1, Math.floor(maxLines * headShare));
    const tail = Math.max(1, maxLines - head);
    const cut = lines.slice(head, lines.length - tail);
    const cutChars = cut.reduce((n, l) => n + l.length + 1, 0);
    out = [
      ...lines.slice(0, head),
      `[… ${cut.length} lines (${cutChars} characters) cut …]`,
      ...lines.slice(lines.length - tail),
    ].join('\n');
  }
  if (out.length > maxChars) {
    const head = Math.floor(maxChars * headShare);
    const tail = maxChars - head;
    const cut = out.length - head - tail;
    out = `${out.slice(0, head)}\n[… ${cut} characters cut …]\n${out.slice(out.length - tail)}`;
  }
  return out;
}

/** True when the bytes look like a binary file (a NUL byte near the start, as git decides). */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8000);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** What the model sees instead of a binary file's bytes. */
export function describeBinary(path: string, size: number): string {
  return `${path} is a binary file (${size} bytes); its contents are not shown.`;
}
