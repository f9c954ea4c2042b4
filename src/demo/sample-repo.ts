/** The demo's sample repository: a tiny library with a real bug and a failing test. */
export const SAMPLE_REPO = {
  owner: 'acme',
  name: 'calculator',
  files: {
    'package.json':
      JSON.stringify(
        { name: 'calculator', version: '1.0.0', type: 'commonjs', scripts: { test: 'node --test' } },
        null,
        2,
      ) + '\n',
    'calc.js': [
      '// Tiny calculator used by the droidworks demo.',
      'function add(a, b) {',
      '  return a - b;',
      '}',
      '',
      'function multiply(a, b) {',
      '  return a * b;',
      '}',
      '',
      'module.exports = { add, multiply };',
      '',
    ].join('\n'),
    'calc.test.js': [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "const { add, multiply } = require('./calc.js');",
      '',
      "test('add adds', () => {",
      '  assert.strictEqual(add(2, 3), 5);',
      '});',
      '',
      "test('multiply multiplies', () => {",
      '  assert.strictEqual(multiply(2, 3), 6);',
      '});',
      '',
    ].join('\n'),
    'README.md': '# calculator\n\n`add` and `multiply`. Run the tests with `npm test`.\n',
  } as Record<string, string>,
  issue: {
    title: 'add() returns the wrong result',
    body: '`add(2, 3)` returns `-1` instead of `5`, and `npm test` fails. Please fix `add` in calc.js.',
  },
} as const;
