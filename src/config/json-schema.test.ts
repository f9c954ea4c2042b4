import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jsonSchemaFor, jsonSchemaText, SCHEMA_FILES, SCHEMA_KINDS, type SchemaKind } from './json-schema.js';
import { parseRepoConfig } from './repo-config.js';
import { STEP_IMPLS } from '../steps/index.js';

const STEP_KINDS = Object.keys(STEP_IMPLS);

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

// ajv 6 (draft-07, the draft the published schemas target), as editors' yaml-language-server reads them.
function validator(kind: SchemaKind): (value: unknown) => string[] {
  const check = new Ajv({ allErrors: true }).compile(jsonSchemaFor(kind, STEP_KINDS));
  return (value) => (check(value) ? [] : (check.errors ?? []).map((e) => `${e.dataPath} ${e.message ?? ''}`));
}

/** The YAML code blocks of a README section (up to the next heading of the same or a higher level). */
function yamlBlocks(heading: string): string[] {
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  expect(start, `README has a "${heading}" heading`).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const blocks: string[] = [];
  let block: string[] | undefined;
  for (const line of lines.slice(start + 1)) {
    if (block) {
      if (line.startsWith('```')) {
        blocks.push(block.join('\n'));
        block = undefined;
      } else block.push(line);
    } else if (line === '```yaml') block = [];
    else if (new RegExp(`^#{1,${level}} `).test(line)) break;
  }
  return blocks;
}

function frontMatter(text: string): string {
  const m = /^---\n([\s\S]*?)\n---/.exec(text);
  if (!m) throw new Error('no front matter');
  return m[1] ?? '';
}

describe('published JSON Schemas', () => {
  it.each(SCHEMA_KINDS)('%s: the file in the package is the one generated from the zod schema', (kind) => {
    const published = readFileSync(join(root, SCHEMA_FILES[kind]), 'utf8');
    expect(published, 'regenerate with: npm run droidworks -- schema --write .').toBe(
      jsonSchemaText(kind, STEP_KINDS),
    );
  });

  it('accepts every .droidworks.yml example of the README, which the product accepts too', () => {
    const blocks = yamlBlocks('### Per-repository settings: `.droidworks.yml`');
    expect(blocks.length).toBeGreaterThan(0);
    const check = validator('config');
    for (const block of blocks) {
      expect(block).toContain('# yaml-language-server: $schema=');
      expect(check(parse(block))).toEqual([]);
      expect(() => parseRepoConfig(block)).not.toThrow();
    }
  });

  it('accepts the built-in workflows and the README workflow examples', () => {
    const check = validator('workflow');
    const dir = join(root, 'workflows');
    const files = readdirSync(dir).filter((f) => /\.(ya?ml|md)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const yaml = file.endsWith('.md') ? frontMatter(text) : text;
      expect({ file, problems: check(parse(yaml)) }).toEqual({ file, problems: [] });
    }
  });

  it.each([
    ['a misspelt key', 'testRound: 3', 'config', 'additional properties'],
    ['a misspelt nested key', 'budgets: { maxCostUSD: 2 }', 'config', 'additional properties'],
    ['a wrong enum value', 'onTestsFailing: drafts', 'config', 'allowed values'],
    ['a string where a number goes', 'testRounds: three', 'config', 'integer'],
    [
      'an unknown step kind',
      'description: x\ntrigger: { label: droid }\nsteps: [{ step: cod }]',
      'workflow',
      'allowed values',
    ],
    [
      'a misspelt workflow key',
      'description: x\ntriger: { label: droid }\nsteps: [{ step: code }]',
      'workflow',
      'required',
    ],
  ] as const)('rejects %s', (_what, yaml, kind, message) => {
    const problems = validator(kind)(parse(yaml));
    expect(problems.join('\n')).toMatch(new RegExp(message, 'i'));
  });

  it('accepts the single-value shorthands the loader turns into lists', () => {
    const check = validator('config');
    const yaml = 'install: npm ci\ntest: [npm test, npm run lint]\nmodels: { coder: "openai:gpt-5.1" }';
    expect(check(parse(yaml))).toEqual([]);
    expect(parseRepoConfig(yaml).install).toEqual(['npm ci']);
  });
});
