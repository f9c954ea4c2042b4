import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './parse-workflow.js';

const VALID = `
name: tidy-up
description: Tidies a pull request.
trigger: { command: fix }
on: pull
permissions: [comment, push, open_pr, push]
budgets: { maxSteps: 20 }
steps:
  - step: checkout
  - step: code
    retries: 1
  - step: publish
    role: summarizer
  - step: report
    if: always
`;

describe('parseWorkflow', () => {
  it('parses YAML, fills defaults and default roles', () => {
    const parsed = parseWorkflow(VALID, 'x/tidy-up.yml');
    expect(parsed).toEqual({
      ok: true,
      workflow: {
        name: 'tidy-up',
        description: 'Tidies a pull request.',
        trigger: { command: ['fix'], when: [] },
        on: 'pull',
        permissions: ['comment', 'push', 'open_pr'],
        budgets: { maxSteps: 20 },
        steps: [
          { step: 'checkout', with: {}, retries: 0, if: 'success' },
          { step: 'code', role: 'coder', with: {}, retries: 1, if: 'success' },
          { step: 'publish', role: 'summarizer', with: {}, retries: 0, if: 'success' },
          { step: 'report', with: {}, retries: 0, if: 'always' },
        ],
        source: 'x/tidy-up.yml',
        origin: 'repository',
      },
    });
  });

  it('reads Markdown front matter, takes the body as the prompt and the file name as the name', () => {
    const parsed = parseWorkflow(
      '---\ndescription: d\ntrigger: { label: bug }\nsteps: [{ step: plan }]\n---\n\n# Do it\nCarefully.\n',
      '.droidworks/workflows/triage-bug.md',
    );
    expect(parsed).toMatchObject({
      ok: true,
      workflow: {
        name: 'triage-bug',
        prompt: '# Do it\nCarefully.',
        steps: [{ step: 'plan', role: 'planner' }],
      },
    });
  });

  const base = 'description: d\ntrigger: { command: run }\n';
  const broken: Array<[string, string, string, Array<{ path: string; message: string | RegExp }>]> = [
    [
      'a step kind that is not kebab-case',
      'w.yml',
      `${base}steps: [{ step: Compile_All }]`,
      [{ path: 'steps[0].step', message: /kebab-case/ }],
    ],
    ['no steps', 'w.yml', `${base}steps: []`, [{ path: 'steps', message: 'needs at least one step' }]],
    [
      'name not kebab-case',
      'w.yml',
      `name: Resolve_Issue\n${base}steps: [{ step: code }]`,
      [{ path: 'name', message: /kebab-case/ }],
    ],
    [
      'file name not kebab-case',
      'My Flow.yml',
      `${base}steps: [{ step: code }]`,
      [{ path: 'name', message: /kebab-case/ }],
    ],
    [
      'empty trigger',
      'w.yml',
      'description: d\ntrigger: {}\nsteps: [{ step: code }]',
      [{ path: 'trigger', message: /at least one of label, command, event or schedule/ }],
    ],
    [
      'unknown command verb and bad event',
      'w.yml',
      'description: d\ntrigger: { command: [dance], event: [push] }\nsteps: [{ step: code }]',
      [
        { path: 'trigger.command[0]', message: /must be one of: run, fix/ },
        { path: 'trigger.event[0]', message: /event\.action/ },
      ],
    ],
    [
      'bad cron',
      'w.yml',
      'description: d\ntrigger: { schedule: "every day" }\nsteps: [{ step: code }]',
      [{ path: 'trigger.schedule', message: /cron/ }],
    ],
    [
      'publish without push and open_pr',
      'w.yml',
      `${base}permissions: [comment]\nsteps: [{ step: code }, { step: publish }]`,
      [{ path: 'permissions', message: 'missing push, open_pr, needed by step publish (steps[1])' }],
    ],
    [
      'deploy and rollback without deploy',
      'w.yml',
      `${base}steps: [{ step: deploy }, { step: rollback, if: failure }]`,
      [
        { path: 'permissions', message: 'missing deploy, needed by step deploy (steps[0])' },
        { path: 'permissions', message: 'missing deploy, needed by step rollback (steps[1])' },
      ],
    ],
    [
      'role on a step without a model, unknown role',
      'w.yml',
      `${base}steps: [{ step: checkout, role: coder }, { step: code, role: tester }]`,
      [
        { path: 'steps[0].role', message: 'checkout does not use a model, so takes no role' },
        { path: 'steps[1].role', message: 'must be one of: planner, coder, reviewer, summarizer, oracle' },
      ],
    ],
    [
      'unknown fields, missing description, bad on, unknown permission',
      'w.yml',
      'trigger: { labels: x }\non: discussion\npermissions: [admin]\nsteps: [{ step: code, retires: 2 }]\nstep: []',
      [
        { path: 'description', message: 'Required' },
        { path: 'trigger.labels', message: 'unknown field (did you mean "label"?)' },
        { path: 'trigger', message: /at least one of/ },
        { path: 'on', message: 'must be one of: issue, pull, any' },
        { path: 'steps[0].retires', message: 'unknown field (did you mean "retries"?)' },
        { path: 'permissions[0]', message: /must be one of: comment/ },
        { path: 'step', message: 'unknown field (did you mean "steps"?)' },
      ],
    ],
    [
      'Markdown without front matter',
      'w.md',
      '# Just a prompt',
      [{ path: '(front matter)', message: /front matter/ }],
    ],
    [
      'prompt twice',
      'w.md',
      `---\n${base}prompt: a\nsteps: [{ step: code }]\n---\nb`,
      [{ path: 'prompt', message: /given twice/ }],
    ],
    [
      'YAML error in front matter, line counted in the file',
      'w.md',
      '---\ndescription: d\ntrigger: [x\nsteps: []\n---\nbody',
      [{ path: 'line 4, column 1', message: /YAML syntax/ }],
    ],
    ['not a workflow file type', 'w.json', '{}', [{ path: '(file)', message: /\.yml, \.yaml or \.md/ }]],
  ];

  it.each(broken)('reports %s', (_name, source, text, expected) => {
    const parsed = parseWorkflow(text, source);
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems.map(({ path, message }) => ({ path, message }));
    expect(problems).toHaveLength(expected.length);
    for (const want of expected)
      expect(problems).toContainEqual({
        path: want.path,
        message: typeof want.message === 'string' ? want.message : expect.stringMatching(want.message),
      });
  });

  it('refuses a step kind the engine does not implement, listing those it does', () => {
    const stepKinds = ['checkout', 'plan', 'code'];
    const parsed = parseWorkflow(`${base}steps: [{ step: code }, { step: gate }]`, 'w.yml', 'repository', {
      stepKinds,
    });
    expect(parsed).toEqual({
      ok: false,
      name: 'w',
      problems: [
        expect.objectContaining({ path: 'steps[1].step', message: 'must be one of: checkout, plan, code' }),
      ],
    });
    expect(parseWorkflow(`${base}steps: [{ step: code }]`, 'w.yml', 'repository', { stepKinds }).ok).toBe(
      true,
    );
  });

  it('checks permissions even when other fields are invalid', () => {
    const parsed = parseWorkflow('trigger: { command: run }\nsteps: [{ step: publish }]', 'w.yml');
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toEqual(['description', 'permissions']);
  });
});
