import { beforeAll, describe, expect, it } from 'vitest';
import { builtinWorkflowsDir, loadWorkflows } from './load-workflows.js';
import { matchWorkflow, type TriggerInput } from './match-workflow.js';
import type { WorkflowDefinition } from './parse-workflow.js';

let builtins: Map<string, WorkflowDefinition>;
let withRepo: Map<string, WorkflowDefinition>;

beforeAll(async () => {
  builtins = (await loadWorkflows({ builtinDir: builtinWorkflowsDir() })).workflows;
  const loaded = await loadWorkflows({
    builtinDir: builtinWorkflowsDir(),
    repoFiles: [
      {
        path: '.droidworks/workflows/triage.yml',
        content: 'description: triage\ntrigger: { label: needs-triage }\non: any\nsteps: [{ step: plan }]',
      },
      {
        path: '.droidworks/workflows/quick-fix.yml',
        content:
          'description: ours\ntrigger: { label: $triggerLabel }\non: issue\npermissions: [push, open_pr]\nsteps: [{ step: code }, { step: publish }]',
      },
      {
        path: '.droidworks/workflows/nightly.yml',
        content: 'description: n\ntrigger: { schedule: "@daily" }\nsteps: [{ step: code }]',
      },
    ],
  });
  expect(loaded.problems).toEqual([]);
  withRepo = loaded.workflows;
});

describe('matchWorkflow', () => {
  const cases: Array<[string, 'builtins' | 'withRepo', TriggerInput, string | undefined]> = [
    [
      'trigger label on an issue',
      'builtins',
      { kind: 'label', label: 'droid', subjectType: 'issue' },
      'resolve-issue',
    ],
    [
      'label case-insensitive',
      'builtins',
      { kind: 'label', label: 'Droid', subjectType: 'issue' },
      'resolve-issue',
    ],
    [
      'trigger label on a pull request',
      'builtins',
      { kind: 'label', label: 'droid', subjectType: 'pull' },
      undefined,
    ],
    ['another label', 'builtins', { kind: 'label', label: 'bug', subjectType: 'issue' }, undefined],
    ['run on an issue', 'builtins', { kind: 'command', verb: 'run', subjectType: 'issue' }, 'resolve-issue'],
    [
      'retry on an issue',
      'builtins',
      { kind: 'command', verb: 'retry', subjectType: 'issue' },
      'resolve-issue',
    ],
    ['fix on an issue', 'builtins', { kind: 'command', verb: 'fix', subjectType: 'issue' }, undefined],
    [
      'fix on a pull request',
      'builtins',
      { kind: 'command', verb: 'fix', subjectType: 'pull' },
      'pr-command',
    ],
    [
      'run on a pull request',
      'builtins',
      { kind: 'command', verb: 'run', subjectType: 'pull' },
      'pr-command',
    ],
    ['deploy command', 'builtins', { kind: 'command', verb: 'deploy', subjectType: 'issue' }, 'deploy'],
    [
      'status is no workflow',
      'builtins',
      { kind: 'command', verb: 'status', subjectType: 'issue' },
      undefined,
    ],
    [
      'review on a droid pull request',
      'builtins',
      {
        kind: 'event',
        event: 'pull_request_review.submitted',
        subjectType: 'pull',
        conditions: ['droid-pull'],
      },
      'review-iterate',
    ],
    [
      'review comment on a droid pull request',
      'builtins',
      {
        kind: 'event',
        event: 'pull_request_review_comment.created',
        subjectType: 'pull',
        conditions: ['droid-pull'],
      },
      'review-iterate',
    ],
    [
      'review on someone else’s pull request',
      'builtins',
      { kind: 'event', event: 'pull_request_review.submitted', subjectType: 'pull' },
      undefined,
    ],
    [
      'merged pull request',
      'builtins',
      { kind: 'event', event: 'pull_request.closed', subjectType: 'pull', conditions: ['merged'] },
      'deploy',
    ],
    [
      'closed without merge',
      'builtins',
      { kind: 'event', event: 'pull_request.closed', subjectType: 'pull', conditions: [] },
      undefined,
    ],
    ['unknown event', 'builtins', { kind: 'event', event: 'issues.opened', subjectType: 'issue' }, undefined],
    ['schedule of a built-in without one', 'builtins', { kind: 'schedule', name: 'deploy' }, undefined],
    ['repo schedule', 'withRepo', { kind: 'schedule', name: 'nightly' }, 'nightly'],
    ['schedule of an unknown workflow', 'withRepo', { kind: 'schedule', name: 'weekly' }, undefined],
    [
      'repo workflow wins over a built-in on the same label',
      'withRepo',
      { kind: 'label', label: 'droid', subjectType: 'issue' },
      'quick-fix',
    ],
    [
      'repo label on a pull request',
      'withRepo',
      { kind: 'label', label: 'needs-triage', subjectType: 'pull' },
      'triage',
    ],
    [
      'built-in still matches what the repo does not cover',
      'withRepo',
      { kind: 'command', verb: 'run', subjectType: 'issue' },
      'resolve-issue',
    ],
  ];

  it.each(cases)('%s', (_name, set, trigger, expected) => {
    const workflows = set === 'builtins' ? builtins : withRepo;
    expect(matchWorkflow(workflows, trigger, { triggerLabel: 'droid' })?.name).toBe(expected);
  });

  it('resolves $triggerLabel to the configured label only', () => {
    const label = (l: string) =>
      matchWorkflow(builtins, { kind: 'label', label: l, subjectType: 'issue' }, { triggerLabel: 'ai-fix' });
    expect(label('ai-fix')?.name).toBe('resolve-issue');
    expect(label('droid')).toBeUndefined();
    expect(label('$triggerLabel')).toBeUndefined();
  });
});
