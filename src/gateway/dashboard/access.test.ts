import { describe, expect, it } from 'vitest';
import type { RepoPermission } from '../../github/types.js';
import { decideAccess } from './access.js';
import { summarize } from './run-summary.js';
import { commandJob } from './routes.js';
import type { Viewer } from './sessions.js';
import { safeNext } from './sign-in-routes.js';

describe('decideAccess', () => {
  const admin: Viewer = { kind: 'admin', csrf: 'c' };
  const user: Viewer = { kind: 'user', login: 'alice', csrf: 'c' };
  it.each<[Viewer, RepoPermission | undefined, { see: boolean; act: boolean }]>([
    [admin, undefined, { see: true, act: true }],
    [{ kind: 'guard' }, undefined, { see: true, act: false }],
    [user, 'admin', { see: true, act: true }],
    [user, 'maintain', { see: true, act: true }],
    [user, 'write', { see: true, act: true }],
    [user, 'triage', { see: false, act: false }],
    [user, 'read', { see: false, act: false }],
    [user, 'none', { see: false, act: false }],
    [user, undefined, { see: false, act: false }],
  ])('%j with %s → %j', (viewer, permission, expected) => {
    expect(decideAccess(viewer, permission)).toEqual(expected);
  });
});

describe('safeNext', () => {
  it.each([
    [undefined, '/runs'],
    ['/runs/abc?x=1', '/runs/abc?x=1'],
    ['//evil.example/x', '/runs'],
    ['https://evil.example/', '/runs'],
    ['/\\evil.example', '/runs'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});

describe('commandJob', () => {
  const options = { commandPrefix: '/droid', adminLogin: 'droidworks[bot]' };
  it('is the intake job of a comment command on the run subject, as the viewer', () => {
    const run = summarize('r1', { subject: 'acme/app#12', subjectType: 'pull', status: 'running' }, null);
    const job = commandJob(run, 'cancel', { kind: 'user', login: 'alice', csrf: 'c' }, options, 5);
    expect(job).toEqual({
      kind: 'command',
      deliveryId: expect.stringMatching(/^dashboard-[0-9a-f-]{36}$/),
      event: 'dashboard',
      action: 'cancel',
      repo: { owner: 'acme', name: 'app' },
      sender: { login: 'alice' },
      subject: { type: 'pull', number: 12 },
      commands: ['/droid cancel'],
      receivedAt: 5,
    });
    expect(commandJob(run, 'retry', { kind: 'admin', csrf: 'c' }, options)).toMatchObject({
      sender: { login: 'droidworks[bot]' },
      commands: ['/droid retry'],
      dashboardAdmin: true,
    });
  });

  it('has nothing to send for a run without an issue or PR', () => {
    const run = summarize('r2', { status: 'failed' }, null);
    expect(commandJob(run, 'retry', { kind: 'admin', csrf: 'c' }, options)).toBeUndefined();
  });

  it('guesses pull requests from the workflow of runs recorded before subjectType', () => {
    expect(summarize('r3', { subject: 'a/b#1', workflow: 'pr-command' }, null).subjectType).toBe('pull');
    expect(summarize('r3', { subject: 'a/b#1', workflow: 'resolve-issue' }, null).subjectType).toBe('issue');
  });
});
