import { describe, expect, it } from 'vitest';
import { parseFailedTests } from './parse-failed-tests.js';

describe('parseFailedTests', () => {
  it.each([
    [
      'node --test TAP',
      'ok 1 - adds\nnot ok 2 - subtracts\n  ---\nnot ok 3 - skipped one # SKIP\n',
      ['subtracts'],
    ],
    [
      'pytest',
      'tests/test_a.py F.\nFAILED tests/test_a.py::test_div - ZeroDivisionError\nFAILED tests/test_b.py::TestX::test_y\n',
      ['tests/test_a.py::test_div', 'tests/test_b.py::TestX::test_y'],
    ],
    [
      'vitest',
      ' ✓ src/a.test.ts > ok\n × src/a.test.ts > math > divides 3ms\n FAIL  src/a.test.ts > math > divides\n',
      ['src/a.test.ts > math > divides'],
    ],
    ['jest', '  ✕ renders the title (12 ms)\n  ✓ other\n', ['renders the title']],
    ['go', '=== RUN   TestAdd\n--- FAIL: TestAdd (0.00s)\n--- PASS: TestSub (0.00s)\n', ['TestAdd']],
    ['cargo', 'test tests::adds ... ok\ntest tests::divides ... FAILED\n', ['tests::divides']],
    ['colours stripped', '\x1b[31m--- FAIL: TestColour (0.01s)\x1b[0m\n', ['TestColour']],
    ['nothing parseable', 'Segmentation fault\n', []],
    [
      'node:test spec reporter',
      '✔ adds (0.5ms)\n✖ sometimes passes (1.2ms)\n✖ failing tests:\n\ntest at t.test.js:3:1\n✖ sometimes passes (1.2ms)\n',
      ['sometimes passes'],
    ],
    [
      'pytest verbose',
      'tests/test_a.py::test_ok PASSED [ 50%]\ntests/test_a.py::test_div FAILED [100%]\n',
      ['tests/test_a.py::test_div'],
    ],
    [
      'jest error heading',
      '  ● math › divides by zero\n\n    expect(received)\n',
      ['math › divides by zero'],
    ],
  ])('%s', (_name, output, expected) => {
    expect(parseFailedTests(output)).toEqual(expected);
  });
});
