import { parse as parseYaml } from 'yaml';

export interface RepoFile {
  readonly path: string;
  readonly content: string;
}

/** Reads a file at the repository root by relative path; `undefined` when it does not exist. */
export type RepoReader = (path: string) => Promise<string | undefined> | string | undefined;

export interface TestCommand {
  readonly install: string | undefined;
  readonly test: string;
  /** Which file decided: `.droidworks.yml`, `package.json`, … */
  readonly source: string;
}

const CANDIDATES = [
  '.droidworks.yml',
  '.droidworks.yaml',
  'package.json',
  'pyproject.toml',
  'pytest.ini',
  'go.mod',
  'Cargo.toml',
  'Makefile',
];

/**
 * Decides how to test a repository (pure over its files): `.droidworks.yml` `install:`/`test:`
 * win; otherwise `package.json` `scripts.test` → `npm test`, `pyproject.toml`/`pytest.ini` →
 * `pytest`, `go.mod` → `go test ./...`, `Cargo.toml` → `cargo test`, a `Makefile` with a `test`
 * target → `make test`. Returns `undefined` when nothing says how.
 */
export async function detectTestCommand(
  files: readonly RepoFile[] | RepoReader,
): Promise<TestCommand | undefined> {
  const read: RepoReader =
    typeof files === 'function'
      ? files
      : (path) => files.find((f) => f.path === path || f.path === `./${path}`)?.content;
  const contents = new Map<string, string | undefined>();
  for (const path of CANDIDATES) contents.set(path, await read(path));
  return decideTestCommand(contents);
}

/** The decision itself, over already-read root files. */
export function decideTestCommand(files: ReadonlyMap<string, string | undefined>): TestCommand | undefined {
  const yml = files.get('.droidworks.yml') ?? files.get('.droidworks.yaml');
  let install: string | undefined;
  if (yml !== undefined) {
    const doc = safeYaml(yml);
    install = stringOrList(doc?.install);
    const test = stringOrList(doc?.test);
    if (test) return { install, test, source: '.droidworks.yml' };
  }
  const pkg = files.get('package.json');
  if (pkg !== undefined) {
    const scripts = safeJson(pkg)?.scripts;
    const test =
      typeof scripts === 'object' && scripts !== null ? (scripts as Record<string, unknown>).test : undefined;
    // npm's placeholder `echo "Error: no test specified" && exit 1` is no test suite.
    if (typeof test === 'string' && test.trim() && !/no test specified/.test(test))
      return { install: install ?? 'npm ci || npm install', test: 'npm test', source: 'package.json' };
  }
  if (files.get('pytest.ini') !== undefined) return { install, test: 'pytest', source: 'pytest.ini' };
  if (files.get('pyproject.toml') !== undefined) return { install, test: 'pytest', source: 'pyproject.toml' };
  if (files.get('go.mod') !== undefined) return { install, test: 'go test ./...', source: 'go.mod' };
  if (files.get('Cargo.toml') !== undefined) return { install, test: 'cargo test', source: 'Cargo.toml' };
  const makefile = files.get('Makefile');
  if (makefile !== undefined && /^test\s*:(?!=)/m.test(makefile))
    return { install, test: 'make test', source: 'Makefile' };
  return undefined;
}

function stringOrList(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v.join(' && ');
  return undefined;
}

function safeYaml(text: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = parseYaml(text);
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : undefined;
  } catch (err) {
    // An unreadable .droidworks.yml is reported by the config loader; here it simply decides nothing.
    if (err instanceof Error) return undefined;
    throw err;
  }
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : undefined;
  } catch (err) {
    // A broken package.json decides nothing; `npm test` would fail on it anyway.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}
