import { describe, expect, it } from 'vitest';
import { describeBinary, looksBinary, truncateOutput } from './truncate-output.js';

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n');

describe('truncateOutput', () => {
  it.each([
    { name: 'short text unchanged', text: 'hello\nworld', opts: {}, expected: 'hello\nworld' },
    { name: 'empty', text: '', opts: {}, expected: '' },
    {
      name: 'too many lines: head and tail kept',
      text: numbered(10),
      opts: { maxLines: 4 },
      expected: 'line 1\nline 2\n[… 6 lines (42 characters) cut …]\nline 9\nline 10',
    },
    {
      name: 'too many characters: head and tail kept',
      text: 'a'.repeat(10) + 'b'.repeat(10),
      opts: { maxChars: 8 },
      expected: 'aaaa\n[… 12 characters cut …]\nbbbb',
    },
    {
      name: 'head share',
      text: numbered(10),
      opts: { maxLines: 4, headShare: 0.75 },
      expected: 'line 1\nline 2\nline 3\n[… 6 lines (42 characters) cut …]\nline 10',
    },
    { name: 'exactly at the limit', text: numbered(4), opts: { maxLines: 4 }, expected: numbered(4) },
  ])('$name', ({ text, opts, expected }) => {
    expect(truncateOutput(text, opts)).toBe(expected);
  });

  it('bounds huge single-line output', () => {
    const out = truncateOutput('x'.repeat(1_000_000));
    expect(out.length).toBeLessThan(12_100);
    expect(out).toContain('988000 characters cut');
  });
});

describe('binary files', () => {
  it('detects NUL bytes and describes instead of dumping', () => {
    expect(looksBinary(Buffer.from('plain text\n'))).toBe(false);
    expect(looksBinary(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]))).toBe(true);
    expect(describeBinary('logo.png', 6)).toBe(
      'logo.png is a binary file (6 bytes); its contents are not shown.',
    );
  });
});
