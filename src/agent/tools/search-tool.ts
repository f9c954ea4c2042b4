import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { resolveInWorkspace } from '../resolve-path.js';
import { looksBinary } from '../truncate-output.js';
import { defineTool } from './agent-tool.js';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn']);
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;
const MAX_LINE = 200;

/** `search`: literal or regex search over the workspace, answering `file:line: text`, bounded. */
export const searchTool = defineTool({
  name: 'search',
  description: [
    "Search the repository's text files for a literal string (default) or a JavaScript regular expression.",
    'Returns `path:line: text` for each matching line, skipping .git, node_modules and binary files.',
  ].join('\n'),
  input: z.object({
    pattern: z.string().min(1).describe('The text (or regular expression when `regex` is true) to find.'),
    regex: z.boolean().optional().describe('Treat `pattern` as a regular expression. Default false.'),
    path: z
      .string()
      .optional()
      .describe(
        'Directory or file to search, relative to the repository root. Default: the whole repository.',
      ),
    case_sensitive: z.boolean().optional().describe('Default true.'),
    max_results: z.number().int().min(1).max(500).optional().describe('Most matches returned. Default 100.'),
  }),
  async run(args, ctx) {
    const { abs, rel } = await resolveInWorkspace(ctx.workspace, args.path ?? '.', ctx.aliases);
    const flags = args.case_sensitive === false ? 'i' : '';
    let re: RegExp;
    try {
      re = new RegExp(args.regex ? args.pattern : args.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags);
    } catch (err) {
      return { ok: false, error: `invalid regular expression: ${(err as Error).message}` };
    }
    const limit = args.max_results ?? 100;
    const matches: string[] = [];
    let files = 0;
    let more = false;
    const prefix = rel === '.' ? '' : `${rel}/`;

    const visit = async (dir: string, relDir: string): Promise<void> => {
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      for (const e of entries) {
        if (more || ctx.signal.aborted) return;
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name)) await visit(join(dir, e.name), `${relDir}${e.name}/`);
        } else if (e.isFile()) await scan(join(dir, e.name), `${relDir}${e.name}`);
      }
    };
    const scan = async (file: string, relFile: string): Promise<void> => {
      if (++files > MAX_FILES) {
        more = true;
        return;
      }
      const info = await stat(file);
      if (info.size > MAX_FILE_BYTES) return;
      const bytes = await readFile(file);
      if (looksBinary(bytes)) return;
      const lines = bytes.toString('utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (!re.test(line)) continue;
        if (matches.length >= limit) {
          more = true;
          return;
        }
        const text = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
        matches.push(`${relFile}:${i + 1}: ${text.trim()}`);
      }
    };

    const info = await stat(abs).catch(() => null);
    if (!info) return { ok: false, error: `${rel} does not exist` };
    if (info.isDirectory()) await visit(abs, prefix);
    else await scan(abs, rel);
    if (matches.length === 0)
      return { ok: true, output: `no matches for ${JSON.stringify(args.pattern)} in ${rel}` };
    return {
      ok: true,
      output:
        matches.join('\n') + (more ? `\n[… more matches not shown; narrow the pattern or the path]` : ''),
    };
  },
});
