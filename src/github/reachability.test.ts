import { describe, expect, it } from 'vitest';
import { GitHubApiError } from './errors.js';
import { classifyGitHubFailure } from './reachability.js';

const systemError = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });
/** How Octokit reports a failed fetch: a 500 whose cause chain holds the system error. */
const viaOctokit = (code: string): GitHubApiError =>
  new GitHubApiError(
    'GitHub GET /user failed with 500: fetch failed',
    { status: 500, method: 'GET', route: '/user' },
    { cause: Object.assign(new Error('fetch failed'), { status: 500, cause: systemError(code) }) },
  );
const answered = (status: number): GitHubApiError =>
  new GitHubApiError(`GitHub GET /user failed with ${status}: Bad credentials`, {
    status,
    method: 'GET',
    route: '/user',
  });

describe('classifyGitHubFailure', () => {
  it.each([
    ['DNS failure behind a 500', viaOctokit('ENOTFOUND'), 'unreachable'],
    ['temporary DNS failure', viaOctokit('EAI_AGAIN'), 'unreachable'],
    ['no route', viaOctokit('EHOSTUNREACH'), 'unreachable'],
    ['self-signed certificate', viaOctokit('DEPTH_ZERO_SELF_SIGNED_CERT'), 'unreachable'],
    ['refused behind a 500', viaOctokit('ECONNREFUSED'), 'refused'],
    ['refused, bare', systemError('ECONNREFUSED'), 'refused'],
    [
      'timeout',
      new GitHubApiError('timed out', { status: 0, method: 'GET', route: '/user', timedOut: true }),
      'unreachable',
    ],
    ['401', answered(401), 'credentials'],
    ['403', answered(403), 'credentials'],
    ['a real 500', answered(500), 'other'],
    ['404 (wrong API path)', answered(404), 'other'],
    ['not an error at all', 'boom', 'other'],
  ])('%s → %s', (_name, err, kind) => {
    expect(classifyGitHubFailure(err).kind).toBe(kind);
  });
});
