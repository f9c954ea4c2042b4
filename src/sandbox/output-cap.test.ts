import { describe, expect, it } from 'vitest';
import { OutputCap } from './output-cap.js';

describe('OutputCap', () => {
  it('keeps short output whole', () => {
    const cap = new OutputCap(100);
    cap.push(Buffer.from('hello '));
    cap.push(Buffer.from('world'));
    expect(cap.text()).toBe('hello world');
    expect(cap.droppedBytes).toBe(0);
  });

  it('keeps head and tail across many chunks', () => {
    const cap = new OutputCap(10);
    for (const c of ['abc', 'def', 'ghi', 'jkl', 'mno', 'pqr']) cap.push(Buffer.from(c));
    expect(cap.total).toBe(18);
    expect(cap.droppedBytes).toBe(8);
    expect(cap.text()).toBe('abcde\n[… 8 bytes cut …]\nnopqr');
  });

  it('handles one chunk larger than the cap', () => {
    const cap = new OutputCap(4);
    cap.push(Buffer.from('0123456789'));
    expect(cap.text()).toBe('01\n[… 6 bytes cut …]\n89');
  });
});
