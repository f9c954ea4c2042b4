import { describe, expect, it } from 'vitest';
import { parsePassedTests } from './parse-passed-tests.js';

describe('parsePassedTests', () => {
  it.each([
    [
      'node TAP',
      'TAP version 13\n# Subtest: adds\nok 1 - adds\n  ---\nnot ok 2 - subtracts\nok 3 - later # SKIP\n',
      ['adds'],
    ],
    ['node spec', '✔ adds (0.8ms)\n✖ subtracts (1.1ms)\n', ['adds']],
    [
      'pytest -v',
      'tests/test_a.py::test_one PASSED [ 50%]\ntests/test_a.py::test_two FAILED [100%]\n',
      ['tests/test_a.py::test_one'],
    ],
    ['go -v', '=== RUN   TestAdd\n--- PASS: TestAdd (0.00s)\n--- FAIL: TestSub (0.00s)\n', ['TestAdd']],
    ['cargo', 'test calc::adds ... ok\ntest calc::subs ... FAILED\n', ['calc::adds']],
    ['vitest', ' ✓ src/a.test.ts > adds 2ms\n × src/a.test.ts > subs\n', ['src/a.test.ts > adds']],
  ])('%s', (_name, output, want) => expect(parsePassedTests(output)).toEqual(want));
});
