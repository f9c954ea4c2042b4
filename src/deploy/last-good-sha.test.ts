import { describe, expect, it } from 'vitest';
import { isGoodDeployment, pickLastGood } from './last-good-sha.js';

describe('isGoodDeployment', () => {
  it.each<[string[], boolean]>([
    [['success', 'in_progress'], true],
    [['inactive', 'success', 'in_progress'], true],
    [['failure', 'success', 'in_progress'], false],
    [['error', 'success'], false],
    [['success', 'failure', 'in_progress'], true],
    [['in_progress'], false],
    [['failure', 'in_progress'], false],
    [[], false],
  ])('%j → %s', (states, good) => {
    expect(isGoodDeployment(states)).toBe(good);
  });
});

describe('pickLastGood', () => {
  const history = [
    { id: 9, sha: 'c', states: ['failure', 'in_progress'] },
    { id: 7, sha: 'b', states: ['inactive', 'success', 'in_progress'] },
    { id: 5, sha: 'a', states: ['inactive', 'success'] },
  ];
  it('skips the failing one and failures, keeps inactive successes', () => {
    expect(pickLastGood(history, 9)?.sha).toBe('b');
    expect(pickLastGood(history, 7)?.sha).toBe('a');
    expect(pickLastGood([history[0]!])).toBeUndefined();
  });
});
