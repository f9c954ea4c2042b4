import { describe, expect, it } from 'vitest';
import { droidBranch, isDroidBranch, slugify } from './branch-name.js';

describe('slugify', () => {
  it.each([
    ['Fix the login bug', 'fix-the-login-bug'],
    ['  Crash when  --flag is used!! ', 'crash-when-flag-is-used'],
    ['Ünïcödé café', 'unicode-cafe'],
    ['日本語のみ', 'change'],
    ['', 'change'],
    ['a'.repeat(60), 'a'.repeat(40)],
    [
      'make the frobnicator handle extremely long titles gracefully please',
      'make-the-frobnicator-handle-extremely',
    ],
    ['../../etc/passwd', 'etc-passwd'],
    ['feat: add `x` to y.z', 'feat-add-x-to-y-z'],
  ])('%j → %j', (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });
});

describe('droidBranch', () => {
  it('combines number and slug', () => {
    expect(droidBranch(42, 'Null pointer in parser')).toBe('droid/42-null-pointer-in-parser');
    expect(isDroidBranch('droid/42-x')).toBe(true);
    expect(isDroidBranch('main')).toBe(false);
  });
});
