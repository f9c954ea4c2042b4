import { describe, expect, it } from 'vitest';
import { isWriter } from './is-writer.js';

describe('isWriter', () => {
  it.each([
    ['admin', true],
    ['maintain', true],
    ['write', true],
    ['WRITE', true],
    ['triage', false],
    ['read', false],
    ['none', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (permission, expected) => expect(isWriter(permission)).toBe(expected));
});
