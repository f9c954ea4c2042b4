import { describe, expect, it } from 'vitest';
import { routeEvent } from './route-event.js';

const settings = { triggerLabel: 'droid', commandPrefix: '/droid', botLogin: 'droidworks[bot]' };
const repository = { name: 'api', owner: { login: 'acme' }, default_branch: 'main', id: 7 };
const sender = { login: 'alice', type: 'User' };
const push = (ref: string, files: string[]) => ({
  ref,
  after: 'abc',
  repository,
  sender,
  commits: [{ added: [], modified: files, removed: [] }],
});
const edited = (labels: string[], body: string) => ({
  action: 'edited',
  repository,
  sender,
  issue: { number: 3, title: 'dashboard', body, labels: labels.map((name) => ({ name })) },
});

describe('schedule routes', () => {
  it.each([
    ['push changing .droidworks.yml', 'push', push('refs/heads/main', ['.droidworks.yml']), 'sync'],
    [
      'push changing a workflow',
      'push',
      push('refs/heads/main', ['.droidworks/workflows/changelog.md']),
      'sync',
    ],
    ['push to another branch', 'push', push('refs/heads/feature', ['.droidworks.yml']), undefined],
    ['push of other files', 'push', push('refs/heads/main', ['src/a.ts']), undefined],
    [
      'installation created',
      'installation',
      { action: 'created', installation: { id: 1, account: { login: 'acme' } }, sender },
      'sync',
    ],
    [
      'repositories added',
      'installation_repositories',
      { action: 'added', installation: { id: 1, account: { login: 'acme' } }, sender },
      'sync',
    ],
    [
      'dashboard box ticked',
      'issues',
      edited(['droid:dashboard'], '- [x] <!-- droidworks:run-workflow=changelog -->**changelog**'),
      'dashboard',
    ],
    [
      'dashboard edited, nothing ticked',
      'issues',
      edited(['droid:dashboard'], '- [ ] <!-- droidworks:run-workflow=changelog -->'),
      undefined,
    ],
    [
      'another issue edited',
      'issues',
      edited([], '- [x] <!-- droidworks:run-workflow=changelog -->'),
      undefined,
    ],
  ])('%s', (_name, event, payload, kind) => {
    const routed = routeEvent(event, payload, settings);
    if (kind === undefined) expect(routed.accepted).toBe(false);
    else {
      expect(routed.accepted).toBe(true);
      if (routed.accepted) expect(routed.job.kind).toBe(kind);
    }
  });

  it('an installation event names the whole account', () => {
    const routed = routeEvent(
      'installation',
      { action: 'created', installation: { id: 1, account: { login: 'acme' } }, sender },
      settings,
    );
    expect(routed.accepted && routed.job.repo).toEqual({
      owner: 'acme',
      name: '*',
      id: undefined,
      defaultBranch: undefined,
    });
  });
});
