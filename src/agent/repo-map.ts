import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const SKIP_DIRS = new Set([
  '.git',
  'node_modules',
  'dist',
  'build',
  'target',
  'vendor',
  '.venv',
  '__pycache__',
  'coverage',
]);
const MAX_FILES = 5000;

/** Top-level declarations worth listing, by file extension. */
const SYMBOL_PATTERNS: Record<string, RegExp> = {
  '.ts':
    /^export\s+(?:default\s+)?(?:async\s+)?(?:function\*?|class|interface|type|const|let|enum|abstract class)\s+([A-Za-z_$][\w$]*)/,
  '.js': /^(?:export\s+(?:default\s+)?)?(?:async\s+)?(?:function\*?|class|const)\s+([A-Za-z_$][\w$]*)/,
  '.py': /^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/,
  '.go': /^(?:func(?:\s+\([^)]*\))?|type)\s+([A-Za-z_]\w*)/,
  '.rs': /^pub(?:\([^)]*\))?\s+(?:async\s+)?(?:fn|struct|enum|trait|type|const|mod)\s+([A-Za-z_]\w*)/,
  '.java':
    /^\s{0,4}public\s+(?:static\s+)?(?:final\s+)?(?:abstract\s+)?(?:class|interface|enum|record|[\w<>[\], ]+)\s+([A-Za-z_]\w*)\s*[({<]/,
  '.rb': /^\s{0,2}(?:def|class|module)\s+([A-Za-z_][\w.?!]*)/,
};
SYMBOL_PATTERNS['.tsx'] = SYMBOL_PATTERNS['.ts'] as RegExp;
SYMBOL_PATTERNS['.mts'] = SYMBOL_PATTERNS['.ts'] as RegExp;
SYMBOL_PATTERNS['.jsx'] = SYMBOL_PATTERNS['.js'] as RegExp;
SYMBOL_PATTERNS['.mjs'] = SYMBOL_PATTERNS['.js'] as RegExp;
SYMBOL_PATTERNS['.cjs'] = SYMBOL_PATTERNS['.js'] as RegExp;

export interface RepoMapOptions {
  /** Size limit of the whole map in characters. @defaultValue 6000 */
  readonly budget?: number;
  /** Text of the task; files whose path words appear in it are ranked first for symbols. */
  readonly task?: string;
}

/**
 * A compact picture of the repository for the model: the file tree (collapsed to directories when
 * too long), then top-level symbols of the most relevant source files, within `budget` characters.
 */
export async function buildRepoMap(root: string, options: RepoMapOptions = {}): Promise<string> {
  const budget = options.budget ?? 6000;
  const files = await listFiles(root);
  let tree = files.join('\n');
  if (tree.length > budget / 2) tree = collapse(files, budget / 2);
  let out = `Files (${files.length}${files.length >= MAX_FILES ? '+' : ''}):\n${tree}`;

  const words = new Set((options.task ?? '').toLowerCase().match(/[a-z0-9_]{3,}/g) ?? []);
  const ranked = files
    .filter((f) => SYMBOL_PATTERNS[extname(f)])
    .map((f) => {
      const parts = f.toLowerCase().split(/[/._-]+/);
      const hits = parts.filter((p) => words.has(p)).length;
      return { f, score: hits * 10 - f.split('/').length - (/\b(test|spec)\b/.test(f) ? 2 : 0) };
    })
    .sort((a, b) => b.score - a.score || a.f.localeCompare(b.f));

  let header = false;
  for (const { f } of ranked.slice(0, 60)) {
    const symbols = await symbolsOf(join(root, f), SYMBOL_PATTERNS[extname(f)] as RegExp);
    if (symbols.length === 0) continue;
    const line = `${f}: ${symbols.slice(0, 15).join(', ')}${symbols.length > 15 ? ', …' : ''}`;
    const add = (header ? '' : '\n\nTop-level symbols:') + `\n${line}`;
    if (out.length + add.length > budget) break;
    out += add;
    header = true;
  }
  return out.length > budget ? `${out.slice(0, budget - 20)}\n[… map cut]` : out;
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !(e.name.startsWith('.') && e.name !== '.github'))
          await walk(join(dir, e.name), `${rel}${e.name}/`);
      } else if (e.isFile()) out.push(`${rel}${e.name}`);
    }
  };
  await walk(root, '');
  return out;
}

/** Directory lines with file counts, shallowest first, until the limit. */
function collapse(files: readonly string[], limit: number): string {
  const counts = new Map<string, number>();
  for (const f of files) {
    const parts = f.split('/');
    for (let d = 1; d < parts.length; d++) {
      const dir = `${parts.slice(0, d).join('/')}/`;
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
    }
  }
  const top = files.filter((f) => !f.includes('/'));
  const dirs = [...counts.entries()].sort(
    (a, b) => a[0].split('/').length - b[0].split('/').length || a[0].localeCompare(b[0]),
  );
  const lines: string[] = [...top];
  let size = lines.join('\n').length;
  for (const [dir, n] of dirs) {
    const line = `${dir} (${n} files)`;
    if (size + line.length + 1 > limit) break;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.sort().join('\n');
}

async function symbolsOf(file: string, pattern: RegExp): Promise<string[]> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).slice(0, 200_000);
  } catch (err) {
    // A file removed or unreadable between listing and reading simply has no symbols in the map.
    if ((err as NodeJS.ErrnoException).code) return [];
    throw err;
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}
