import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { resolveInWorkspace } from '../resolve-path.js';
import { describeBinary, looksBinary, truncateOutput } from '../truncate-output.js';
import { defineTool, type ToolContext } from './agent-tool.js';

const input = z.object({
  command: z
    .enum(['view', 'create', 'str_replace', 'insert', 'undo_edit'])
    .describe('The command to run: view, create, str_replace, insert or undo_edit.'),
  path: z
    .string()
    .min(1)
    .describe('Path of the file or directory, relative to the repository root (e.g. `src/app.ts`).'),
  file_text: z.string().optional().describe('Required for `create`: the content of the file to be created.'),
  old_str: z
    .string()
    .optional()
    .describe(
      'Required for `str_replace`: the exact text to replace; it must appear exactly once in the file.',
    ),
  new_str: z
    .string()
    .optional()
    .describe('For `str_replace`: the replacement text (empty to delete). For `insert`: the text to insert.'),
  insert_line: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Required for `insert`: the text is inserted AFTER this line (0 inserts at the top of the file).',
    ),
  insert_text: z.string().optional().describe('For `insert`: the text to insert (same as `new_str`).'),
  view_range: z
    .array(z.number().int())
    .length(2)
    .optional()
    .describe(
      'For `view` of a file: [start, end] line numbers, 1-based; end -1 means to the end of the file.',
    ),
});

const MAX_FILE_BYTES = 2 * 1024 * 1024;

/**
 * `str_replace_based_edit_tool`: the text editor tool Anthropic's models are trained on (same name,
 * commands and parameters); OpenAI models use it well from its description.
 */
export const editTool = defineTool({
  name: 'str_replace_based_edit_tool',
  description: [
    'Custom editing tool for viewing, creating and editing files in the repository.',
    '* `view` shows a file with line numbers (`cat -n`), or lists a directory two levels deep.',
    '* `create` writes a new file (or replaces an existing one) with `file_text`.',
    '* `str_replace` replaces `old_str` with `new_str`; `old_str` must match EXACTLY ONE place in the file, whitespace included. Include enough surrounding lines to make it unique.',
    '* `insert` inserts `new_str` after line `insert_line`.',
    '* `undo_edit` reverts the last edit made to the file.',
    'Long outputs are truncated; use `view_range` to read a part of a large file.',
  ].join('\n'),
  input,
  async run(args, ctx) {
    const { abs, rel } = await resolveInWorkspace(ctx.workspace, args.path, ctx.aliases);
    switch (args.command) {
      case 'view':
        return { ok: true, output: await view(abs, rel, args.view_range) };
      case 'create': {
        if (args.file_text === undefined) return { ok: false, error: '`create` needs `file_text`' };
        const before = await readText(abs, rel).catch(() => null);
        remember(ctx, abs, before);
        await mkdir(dirname(abs), { recursive: true });
        await writeFile(abs, args.file_text);
        return {
          ok: true,
          output: `${before === null ? 'Created' : 'Overwrote'} ${rel} (${lineCount(args.file_text)} lines).`,
        };
      }
      case 'str_replace': {
        if (args.old_str === undefined) return { ok: false, error: '`str_replace` needs `old_str`' };
        const text = await readText(abs, rel);
        const at = occurrences(text, args.old_str);
        if (args.old_str === '' || at.length === 0)
          return {
            ok: false,
            error: `No replacement was performed: old_str did not appear verbatim in ${rel}.`,
          };
        if (at.length > 1)
          return {
            ok: false,
            error: `No replacement was performed: old_str appears ${at.length} times in ${rel}, on lines ${at
              .map((i) => lineOf(text, i))
              .join(', ')}. Include more context so it matches exactly once.`,
          };
        const index = at[0] as number;
        const newStr = args.new_str ?? '';
        const updated = text.slice(0, index) + newStr + text.slice(index + args.old_str.length);
        remember(ctx, abs, text);
        await writeFile(abs, updated);
        const first = lineOf(updated, index);
        return {
          ok: true,
          output: `Edited ${rel}. Snippet:\n${numbered(updated, Math.max(1, first - 3), first + lineCount(newStr) + 3)}`,
        };
      }
      case 'insert': {
        const newText = args.new_str ?? args.insert_text;
        if (args.insert_line === undefined || newText === undefined)
          return { ok: false, error: '`insert` needs `insert_line` and `new_str`' };
        const text = await readText(abs, rel);
        const lines = text.split('\n');
        if (args.insert_line > lines.length)
          return {
            ok: false,
            error: `insert_line ${args.insert_line} is past the end of ${rel} (${lines.length} lines)`,
          };
        const updated = [
          ...lines.slice(0, args.insert_line),
          ...newText.split('\n'),
          ...lines.slice(args.insert_line),
        ].join('\n');
        remember(ctx, abs, text);
        await writeFile(abs, updated);
        const from = args.insert_line + 1;
        return {
          ok: true,
          output: `Inserted into ${rel}. Snippet:\n${numbered(updated, Math.max(1, from - 3), from + lineCount(newText) + 3)}`,
        };
      }
      case 'undo_edit': {
        const previous = ctx.editHistory.get(abs);
        if (!previous || previous.length === 0) return { ok: false, error: `no edit to undo for ${rel}` };
        const content = previous.pop() as string | null;
        if (content === null) await rm(abs, { force: true });
        else await writeFile(abs, content);
        return {
          ok: true,
          output: content === null ? `Undid the creation of ${rel}.` : `Reverted the last edit to ${rel}.`,
        };
      }
    }
  },
});

function remember(ctx: ToolContext, abs: string, content: string | null): void {
  const list = ctx.editHistory.get(abs) ?? [];
  list.push(content);
  if (list.length > 20) list.shift();
  ctx.editHistory.set(abs, list);
}

async function readText(abs: string, rel: string): Promise<string> {
  const info = await stat(abs).catch(() => null);
  if (!info) throw new Error(`${rel} does not exist`);
  if (info.isDirectory()) throw new Error(`${rel} is a directory`);
  if (info.size > MAX_FILE_BYTES) throw new Error(`${rel} is too large to edit here (${info.size} bytes)`);
  const bytes = await readFile(abs);
  if (looksBinary(bytes)) throw new Error(describeBinary(rel, bytes.length));
  return bytes.toString('utf8');
}

async function view(abs: string, rel: string, range: number[] | undefined): Promise<string> {
  const info = await stat(abs).catch(() => null);
  if (!info) throw new Error(`${rel} does not exist`);
  if (info.isDirectory())
    return truncateOutput(
      `Files in ${rel} (two levels, hidden and node_modules skipped):\n${(await listDir(abs, '', 2)).join('\n')}`,
    );
  if (info.size > MAX_FILE_BYTES)
    return `${rel} is ${info.size} bytes; use bash (head, sed -n) or view_range on a smaller file.`;
  const bytes = await readFile(abs);
  if (looksBinary(bytes)) return describeBinary(rel, bytes.length);
  const text = bytes.toString('utf8');
  const total = lineCount(text);
  const [start, end] = range
    ? [range[0] as number, range[1] === -1 ? total : (range[1] as number)]
    : [1, total];
  if (start < 1 || start > Math.max(total, 1) || end < start)
    throw new Error(`view_range [${range?.join(', ')}] is not inside ${rel} (1 to ${total})`);
  return truncateOutput(numbered(text, start, end), { maxLines: 400, headShare: 0.7 });
}

async function listDir(abs: string, prefix: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const path = prefix + e.name;
    if (e.isDirectory()) {
      out.push(`${path}/`);
      if (depth > 1) out.push(...(await listDir(`${abs}/${e.name}`, `${path}/`, depth - 1)));
    } else out.push(path);
    if (out.length > 500) break;
  }
  return out;
}

function numbered(text: string, start: number, end: number): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let n = start; n <= Math.min(end, lines.length); n++)
    out.push(`${String(n).padStart(6)}\t${lines[n - 1]}`);
  return out.join('\n');
}

function occurrences(text: string, needle: string): number[] {
  const out: number[] = [];
  if (!needle) return out;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
