import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay } from './retry.js';
import { ModelError } from './types.js';

const now = Date.parse('2025-01-01T00:00:00Z');
const headers = (h: Record<string, string>) => new Headers(h);

describe('parseRetryAfter', () => {
  it.each([
    [{}, undefined],
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '250', 'retry-after': '3' }, 250],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }, 10_000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, undefined],
  ])('%j → %s', (h, expected) => {
    expect(parseRetryAfter(headers(h), now)).toBe(expected);
  });
});

describe('retryDelay', () => {
  const outage = (extra: { retryAfterMs?: number } = {}) => new ModelError('x', 'server', extra);
  it.each([
    ['doubles with equal jitter', outage(), 0, { random: (): number => 0 }, 500],
    ['second retry', outage(), 1, { random: (): number => 1 }, 2000],
    ['capped', outage(), 10, { random: (): number => 1, maxRetries: 20, maxDelayMs: 3000 }, 3000],
    ['retries used up', outage(), 3, {}, null],
    ['honours retry-after', outage({ retryAfterMs: 7000 }), 0, {}, 7000],
    ['retry-after too long: give up', outage({ retryAfterMs: 600_000 }), 0, {}, null],
    ['not an outage', new ModelError('x', 'bad_request'), 0, {}, null],
    ['not a ModelError', new Error('x'), 0, {}, null],
  ])('%s', (_name, err, attempt, policy, expected) => {
    expect(retryDelay(err, attempt, policy)).toBe(expected);
  });
});
