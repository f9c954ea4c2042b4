import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { resolveInWorkspace } from '../resolve-path.js';
import { defineTool } from './agent-tool.js';

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;
const MAX_LINE = 200;
/** Longest a search may take: a model's regular expression can backtrack for ever (`(a+)+$`). */
export const SEARCH_TIME_LIMIT_MS = 5_000;

interface ScanJob {
  readonly abs: string;
  readonly isDir: boolean;
  readonly rel: string;
  readonly prefix: string;
  readonly source: string;
  readonly flags: string;
  readonly limit: number;
}
interface ScanResult {
  readonly matches: string[];
  readonly more: boolean;
}

/**
 * The walk and the matching, run in a worker thread (plain JavaScript, evaluated as a script) so a
 * pathological regular expression blocks only that thread, which is terminated at the time limit.
 * Skips .git, node_modules, symlinks, binary files and files over the size limit.
 */
const SCAN_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const SKIP = new Set(['.git', 'node_modules', '.hg', '.svn']);
const j = workerData;
const re = new RegExp(j.source, j.flags);
const matches = [];
let files = 0;
let more = false;
const binary = (b) => { const end = Math.min(b.length, 8000); for (let i = 0; i < end; i++) if (b[i] === 0) return true; return false; };
function scan(file, relFile) {
  if (++files > ${MAX_FILES}) { more = true; return; }
  if (statSync(file).size > ${MAX_FILE_BYTES}) return;
  const bytes = readFileSync(file);
  if (binary(bytes)) return;
  const lines = bytes.toString('utf8').split('\\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!re.test(line)) continue;
    if (matches.length >= j.limit) { more = true; return; }
    const text = line.length > ${MAX_LINE} ? line.slice(0, ${MAX_LINE}) + '…' : line;
    matches.push(relFile + ':' + (i + 1) + ': ' + text.trim());
  }
}
function visit(dir, relDir) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (more) return;
    if (e.isDirectory()) { if (!SKIP.has(e.name)) visit(join(dir, e.name), relDir + e.name + '/'); }
    else if (e.isFile()) scan(join(dir, e.name), relDir + e.name);
  }
}
if (j.isDir) visit(j.abs, j.prefix); else scan(j.abs, j.rel);
parentPort.postMessage({ matches, more });
`;

type ScanOutcome = { ok: true; result: ScanResult } | { ok: false; error: string };

/** Runs one scan in a worker thread; terminated at `timeoutMs` or when `signal` aborts. */
function scanInWorker(job: ScanJob, signal: AbortSignal, timeoutMs: number): Promise<ScanOutcome> {
  if (signal.aborted) return Promise.resolve({ ok: false, error: 'the search was cancelled' });
  return new Promise((resolve) => {
    const worker = new Worker(SCAN_SOURCE, { eval: true, workerData: job });
    let settled = false;
    const settle = (outcome: ScanOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // A finished worker exits by itself; a stuck one is stopped here.
      void worker.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        settle({
          ok: false,
          error: `the search took longer than ${timeoutMs / 1000} s and was stopped; use a simpler pattern (no nested repetition such as (a+)+) or a narrower path`,
        }),
      timeoutMs,
    );
    const onAbort = (): void => settle({ ok: false, error: 'the search was cancelled' });
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (result: ScanResult) => settle({ ok: true, result }));
    worker.once('error', (err: Error) => settle({ ok: false, error: `the search failed: ${err.message}` }));
    worker.once('exit', (code) => settle({ ok: false, error: `the search stopped early (exit ${code})` }));
  });
}

/** `search`: literal or regex search over the workspace, answering `file:line: text`, bounded. */
export const searchTool = defineTool({
  name: 'search',
  description: [
    "Search the repository's text files for a literal string (default) or a JavaScript regular expression.",
    'Returns `path:line: text` for each matching line, skipping .git, node_modules and binary files.',
  ].join('\n'),
  input: z.object({
    pattern: z
      .string()
      .min(1)
      .max(4096)
      .describe('The text (or regular expression when `regex` is true) to find.'),
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
    const source = args.regex ? args.pattern : args.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    try {
      // Compiling is linear; only matching can run away, and that happens in the worker.
      new RegExp(source, flags);
    } catch (err) {
      return { ok: false, error: `invalid regular expression: ${(err as Error).message}` };
    }
    const info = await stat(abs).catch(() => null);
    if (!info) return { ok: false, error: `${rel} does not exist` };
    const scanned = await scanInWorker(
      {
        abs,
        isDir: info.isDirectory(),
        rel,
        prefix: rel === '.' ? '' : `${rel}/`,
        source,
        flags,
        limit: args.max_results ?? 100,
      },
      ctx.signal,
      SEARCH_TIME_LIMIT_MS,
    );
    if (!scanned.ok) return scanned;
    const { matches, more } = scanned.result;
    if (matches.length === 0)
      return { ok: true, output: `no matches for ${JSON.stringify(args.pattern)} in ${rel}` };
    return {
      ok: true,
      output:
        matches.join('\n') + (more ? `\n[… more matches not shown; narrow the pattern or the path]` : ''),
    };
  },
});
