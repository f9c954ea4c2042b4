import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readPayload, type FieldTree } from './read-payload.js';
import { ROUTED_EVENTS, routeEvent, type RouteSettings } from './route-event.js';

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown>>;
}
const groups = createRequire(import.meta.url)(
  '@octokit/webhooks-examples/api.github.com/index.json',
) as ExampleGroup[];

const settings: RouteSettings = {
  triggerLabel: 'droid',
  commandPrefix: '/droid',
  botLogin: 'droidworks[bot]',
};

/** Variants of an example that make more routes accept it (commands, the trigger label, a droid branch). */
function variants(example: Record<string, unknown>): Array<Record<string, unknown>> {
  const out = [example];
  const comment = example.comment as Record<string, unknown> | undefined;
  if (comment)
    out.push({ ...example, comment: { ...comment, body: 'hi\n/droid fix "it" \\ now\n/droid status' } });
  if (example.label) out.push({ ...example, label: { name: 'droid' } });
  const pr = example.pull_request as Record<string, unknown> | undefined;
  if (pr) out.push({ ...example, pull_request: { ...pr, head: { ref: 'droid/7-fix' }, merged: true } });
  const review = example.review as Record<string, unknown> | undefined;
  if (review && pr)
    out.push({
      ...example,
      pull_request: { ...pr, head: { ref: 'droid/7-fix' } },
      review: { ...review, state: 'changes_requested', body: 'please @droidworks' },
    });
  return out.map((p) => ({ ...p, sender: { login: 'alice', type: 'User', id: 1 } }));
}

/** The value `fields` selects from a parsed object, as readPayload should return it. */
function project(value: unknown, fields: FieldTree): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, keep] of Object.entries(fields))
    if (Object.hasOwn(value, k)) {
      const v = (value as Record<string, unknown>)[k];
      out[k] = keep === true ? v : project(v, keep);
    }
  return out;
}

describe('readPayload', () => {
  it('routes every example of every routed event exactly as a full JSON.parse does', () => {
    let routed = 0;
    let accepted = 0;
    for (const group of groups.filter((g) => ROUTED_EVENTS.has(g.name)))
      for (const example of group.examples)
        for (const payload of variants(example)) {
          const text = JSON.stringify(payload, null, routed % 2 === 0 ? 0 : 2);
          const full = routeEvent(group.name, JSON.parse(text) as Record<string, unknown>, settings);
          const pruned = routeEvent(group.name, readPayload(text) as Record<string, unknown>, settings);
          expect(pruned, `${group.name}.${String(payload.action)}`).toEqual(full);
          routed++;
          if (full.accepted) accepted++;
        }
    expect(routed).toBeGreaterThan(150);
    expect(accepted).toBeGreaterThanOrEqual(30);
  });

  const fields: FieldTree = { a: true, b: { c: true, d: { e: true } }, '\u00e9"\\': true };
  it.each<[string, string, unknown]>([
    [
      'keeps listed fields only',
      '{"a":1,"z":{"q":[1,{"r":"}"}]},"b":{"c":"x","y":2}}',
      { a: 1, b: { c: 'x' } },
    ],
    ['whitespace everywhere', ' \n{ "a" : [ 1 , 2 ] ,\t"b" : { } }\r\n', { a: [1, 2], b: {} }],
    ['escaped quotes and backslashes in skipped strings', '{"z":"a\\"}\\\\","a":"\\u0041\\n"}', { a: 'A\n' }],
    ['escaped keys', '{"\\u00e9\\"\\\\":true}', { 'é"\\': true }],
    ['last duplicate wins', '{"a":1,"a":2}', { a: 2 }],
    ['a field expected to be an object that is not', '{"b":"text","a":null}', { b: 'text', a: null }],
    ['nested selection', '{"b":{"d":{"e":false,"f":1},"c":[{}]}}', { b: { d: { e: false }, c: [{}] } }],
    ['no own __proto__ from a hostile key', '{"__proto__":{"a":1}}', {}],
    ['numbers and literals', '{"a":-1.5e3,"b":{"c":true}}', { a: -1500, b: { c: true } }],
    ['top-level array goes to JSON.parse', '[1,{"a":2}]', [1, { a: 2 }]],
    ['top-level null goes to JSON.parse', 'null', null],
  ])('%s', (_name, text, expected) => {
    expect(readPayload(text, fields)).toEqual(expected);
  });

  it.each([
    ['truncated', '{"a":1,"b":{"c":'],
    ['trailing data', '{"a":1} x'],
    ['bad kept value', '{"a":tru}'],
    ['unterminated string', '{"z":"abc}'],
    ['empty', ''],
    ['missing colon', '{"a" 1}'],
  ])('%s: throws as JSON.parse does', (_name, text) => {
    expect(() => readPayload(text, fields)).toThrow(SyntaxError);
  });

  it('selects the same values as JSON.parse for any JSON object', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('a', 'b', 'c', 'z', '\u00e9"\\', 'x y'),
          fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('c', 'd', 'e', 'q'), fc.jsonValue())),
        ),
        fc.boolean(),
        (value, pretty) => {
          const text = JSON.stringify(value, null, pretty ? 2 : 0);
          expect(readPayload(text, fields)).toEqual(project(JSON.parse(text), fields));
        },
      ),
      { numRuns: 500 },
    );
  });
});
