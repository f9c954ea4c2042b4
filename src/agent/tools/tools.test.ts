import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../../../test/support/local-executor.js';
import type { ToolContext, ToolOutcome } from './agent-tool.js';
import { bashTool } from './bash-tool.js';
import { editTool } from './edit-tool.js';
import { SEARCH_TIME_LIMIT_MS, searchTool } from './search-tool.js';

let base: string;
let root: string;
let ctx: ToolContext;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'dw-tools-')));
  root = join(base, 'repo');
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(base, 'secret.txt'), 'top secret\n');
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(root, 'src', 'a.ts'), 'const x = 1;\nconst y = 2;\nconst x2 = 1;\n');
  writeFileSync(join(root, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
  symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(join(base, 'outside'), join(root, 'outdir'));
  symlinkSync(join(root, 'src', 'a.ts'), join(root, 'inside-link.ts'));
  ctx = {
    workspace: root,
    aliases: ['/workspace'],
    executor: createLocalExecutor(root),
    signal: new AbortController().signal,
    editHistory: new Map(),
  };
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const edit = (args: Record<string, unknown>) => editTool.invoke(args, ctx);
const errorOf = (o: ToolOutcome) => (o.ok ? `(ok) ${o.output}` : o.error);

describe('path escapes are refused with a readable error', () => {
  it.each([
    ['../secret.txt', 'view'],
    ['src/../../secret.txt', 'view'],
    [`/etc/passwd`, 'view'],
    ['leak.txt', 'view'],
    ['outdir/new.txt', 'create'],
    ['../evil.txt', 'create'],
  ])('%s (%s)', async (path, command) => {
    const out = await edit({ command, path, file_text: 'x' });
    expect(errorOf(out)).toBe(
      `path "${path}" is outside the repository; use a path relative to the repository root (for example "src/index.ts")`,
    );
    expect(existsSync(join(base, 'outside', 'new.txt'))).toBe(false);
    expect(existsSync(join(base, 'evil.txt'))).toBe(false);
  });

  it('search refuses too, and does not follow symlinks out while walking', async () => {
    expect(errorOf(await searchTool.invoke({ pattern: 'secret', path: '..' }, ctx))).toMatch(
      /outside the repository/,
    );
    expect(errorOf(await searchTool.invoke({ pattern: 'top secret' }, ctx))).toBe(
      '(ok) no matches for "top secret" in .',
    );
  });

  it('allows absolute paths inside the workspace, aliases and symlinks that stay inside', async () => {
    expect(errorOf(await edit({ command: 'view', path: join(root, 'src/a.ts') }))).toContain('const y = 2;');
    expect(errorOf(await edit({ command: 'view', path: '/workspace/src/a.ts' }))).toContain('const y = 2;');
    expect(errorOf(await edit({ command: 'view', path: 'inside-link.ts' }))).toContain('const y = 2;');
  });
});

describe('str_replace_based_edit_tool', () => {
  it('views files with line numbers and ranges, directories as a tree, binaries described', async () => {
    expect(errorOf(await edit({ command: 'view', path: 'src/a.ts', view_range: [2, 2] }))).toBe(
      '(ok)      2\tconst y = 2;',
    );
    expect(errorOf(await edit({ command: 'view', path: '.' }))).toContain('src/\nsrc/a.ts');
    expect(errorOf(await edit({ command: 'view', path: 'logo.png' }))).toBe(
      '(ok) logo.png is a binary file (8 bytes); its contents are not shown.',
    );
  });

  it('replaces exactly one occurrence, refuses ambiguous or missing ones, and undoes', async () => {
    expect(
      errorOf(await edit({ command: 'str_replace', path: 'src/a.ts', old_str: 'const', new_str: 'let' })),
    ).toBe(
      'No replacement was performed: old_str appears 3 times in src/a.ts, on lines 1, 2, 3. Include more context so it matches exactly once.',
    );
    expect(
      errorOf(await edit({ command: 'str_replace', path: 'src/a.ts', old_str: 'nope', new_str: '' })),
    ).toMatch(/did not appear verbatim/);
    const ok = await edit({
      command: 'str_replace',
      path: 'src/a.ts',
      old_str: 'const y = 2;',
      new_str: 'const y = 3;',
    });
    expect(errorOf(ok)).toContain('     2\tconst y = 3;');
    expect(readFileSync(join(root, 'src/a.ts'), 'utf8')).toBe('const x = 1;\nconst y = 3;\nconst x2 = 1;\n');
    await edit({ command: 'insert', path: 'src/a.ts', insert_line: 0, new_str: '// header' });
    expect(readFileSync(join(root, 'src/a.ts'), 'utf8')).toBe(
      '// header\nconst x = 1;\nconst y = 3;\nconst x2 = 1;\n',
    );
    await edit({ command: 'undo_edit', path: 'src/a.ts' });
    await edit({ command: 'undo_edit', path: 'src/a.ts' });
    expect(readFileSync(join(root, 'src/a.ts'), 'utf8')).toBe('const x = 1;\nconst y = 2;\nconst x2 = 1;\n');
    expect(errorOf(await edit({ command: 'undo_edit', path: 'src/a.ts' }))).toBe(
      'no edit to undo for src/a.ts',
    );
  });

  it('creates files with parent directories, and undo removes them', async () => {
    expect(errorOf(await edit({ command: 'create', path: 'lib/new/b.ts', file_text: 'export {};\n' }))).toBe(
      '(ok) Created lib/new/b.ts (1 lines).',
    );
    expect(readFileSync(join(root, 'lib/new/b.ts'), 'utf8')).toBe('export {};\n');
    await edit({ command: 'undo_edit', path: 'lib/new/b.ts' });
    expect(existsSync(join(root, 'lib/new/b.ts'))).toBe(false);
  });

  it('offers a JSON schema with the text editor parameters', () => {
    const schema = editTool.spec.inputSchema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'command',
        'path',
        'file_text',
        'old_str',
        'new_str',
        'insert_line',
        'view_range',
      ]),
    );
    expect(schema.required).toEqual(['command', 'path']);
    expect(JSON.stringify(schema)).not.toContain('9007199254740991');
  });
});

describe('search and bash', () => {
  it('finds literal and regex matches as file:line', async () => {
    expect(errorOf(await searchTool.invoke({ pattern: 'x = 1' }, ctx))).toBe('(ok) src/a.ts:1: const x = 1;'); // symlinks are not followed
    expect(errorOf(await searchTool.invoke({ pattern: 'x\\d? = 1', regex: true, path: 'src' }, ctx))).toBe(
      '(ok) src/a.ts:1: const x = 1;\nsrc/a.ts:3: const x2 = 1;',
    );
    expect(
      errorOf(await searchTool.invoke({ pattern: 'const', path: 'src', max_results: 1 }, ctx)),
    ).toContain('more matches not shown');
    expect(errorOf(await searchTool.invoke({ pattern: '(', regex: true }, ctx))).toMatch(
      /invalid regular expression/,
    );
  });

  it('stops a catastrophic regular expression off the main thread (finding 4)', async () => {
    writeFileSync(join(root, 'src', 'evil.txt'), `${'a'.repeat(40)}!\n`);
    // The main thread keeps running while the search works: the gateway would keep answering.
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 50);
    const started = Date.now();
    try {
      const out = await searchTool.invoke({ pattern: '(a+)+$', regex: true, path: 'src' }, ctx);
      expect(errorOf(out)).toMatch(/took longer than 5 s and was stopped; use a simpler pattern/);
    } finally {
      clearInterval(ticker);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(SEARCH_TIME_LIMIT_MS);
    expect(ticks).toBeGreaterThan(SEARCH_TIME_LIMIT_MS / 50 / 2);
    // The same search stops as soon as the run is cancelled.
    const aborted = new AbortController();
    const pending = searchTool.invoke({ pattern: '(a+)+$', regex: true }, { ...ctx, signal: aborted.signal });
    const abortedAt = Date.now();
    setTimeout(() => aborted.abort(), 300);
    expect(errorOf(await pending)).toBe('the search was cancelled');
    expect(Date.now() - abortedAt).toBeLessThan(SEARCH_TIME_LIMIT_MS);
  });

  it('bash reports exit code, stdout and stderr, bounded', async () => {
    const out = errorOf(await bashTool.invoke({ command: 'echo out; echo err >&2; exit 3' }, ctx));
    expect(out).toBe('(ok) exit code: 3\nstdout:\nout\n\nstderr:\nerr\n');
    const long = errorOf(await bashTool.invoke({ command: 'seq 1 100000' }, ctx));
    expect(long.length).toBeLessThan(9000);
    expect(long).toMatch(/lines \(\d+ characters\) cut/);
    expect(long).toContain('100000');
  });

  it('bash kills a command that exceeds its timeout', async () => {
    const out = errorOf(await bashTool.invoke({ command: 'sleep 20' }, { ...ctx, commandTimeoutMs: 200 }));
    expect(out).toMatch(/^\(ok\) exit code: \d+ \(timed out and killed\)/);
  });
});
