import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKFLOW_NAMES } from '../queue/jobs.js';
import { builtinWorkflowsDir, loadWorkflows } from './load-workflows.js';

const builtinDir = builtinWorkflowsDir();

let tmp: string | undefined;
afterEach(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

describe('builtinWorkflowsDir', () => {
  it('is the top-level workflows/ folder', () => {
    expect(resolve(builtinDir)).toBe(resolve(import.meta.dirname, '../../workflows'));
  });
});

describe('loadWorkflows', () => {
  it('loads every built-in without a problem', async () => {
    const { workflows, problems } = await loadWorkflows({ builtinDir });
    expect(problems).toEqual([]);
    expect([...workflows.keys()].sort()).toEqual([...WORKFLOW_NAMES].sort());
    for (const def of workflows.values()) expect(def.origin).toBe('builtin');
  });

  it('gives resolve-issue its Markdown body as the prompt and default roles', async () => {
    const { workflows } = await loadWorkflows({ builtinDir });
    const resolveIssue = workflows.get('resolve-issue');
    expect(resolveIssue?.prompt).toMatch(/call `finish`/);
    expect(resolveIssue?.steps.map((s) => s.step)).toEqual([
      'checkout',
      'plan',
      'approve',
      'code',
      'test',
      'review',
      'publish',
      'report',
    ]);
    expect(resolveIssue?.steps.find((s) => s.step === 'review')?.role).toBe('reviewer');
    expect(workflows.get('deploy')?.steps.find((s) => s.step === 'rollback')?.if).toBe('failure');
  });

  it('lets a repository add a workflow and override a built-in by name, listed first', async () => {
    const { workflows, problems } = await loadWorkflows({
      builtinDir,
      repoFiles: [
        {
          path: '.droidworks/workflows/deploy.yml',
          content:
            'description: our deploy\ntrigger: { command: deploy }\npermissions: [deploy]\nsteps: [{ step: deploy }]',
        },
        {
          path: '.droidworks/workflows/nightly-deps.yml',
          content:
            'description: bump deps\ntrigger: { schedule: "0 3 * * *" }\npermissions: [push, open_pr]\nsteps: [{ step: code }, { step: publish }]',
        },
      ],
    });
    expect(problems).toEqual([]);
    expect(workflows.get('deploy')).toMatchObject({
      description: 'our deploy',
      origin: 'repository',
      source: '.droidworks/workflows/deploy.yml',
    });
    expect(workflows.get('resolve-issue')?.origin).toBe('builtin');
    expect([...workflows.keys()]).toEqual([
      'deploy',
      'nightly-deps',
      'dependency-update',
      'flaky-tests',
      'pr-command',
      'resolve-issue',
      'review-iterate',
      'stale-branches',
    ]);
  });

  it('excludes and reports an invalid repository workflow, keeping the built-in it meant to replace', async () => {
    const { workflows, problems } = await loadWorkflows({
      builtinDir,
      repoFiles: [
        {
          path: '.droidworks/workflows/resolve-issue.md',
          content:
            '---\ndescription: mine\ntrigger: { label: droid }\nsteps: [{ step: code }, { step: publish }]\n---\nGo.',
        },
      ],
    });
    expect(problems).toEqual([
      {
        source: '.droidworks/workflows/resolve-issue.md',
        origin: 'repository',
        name: 'resolve-issue',
        problems: [
          expect.objectContaining({ path: 'permissions', message: expect.stringMatching(/push, open_pr/) }),
        ],
      },
    ]);
    expect(workflows.get('resolve-issue')?.origin).toBe('builtin');
  });

  it('reports a second file with the same name and unsupported files', async () => {
    const def = 'description: d\ntrigger: { command: run }\nsteps: [{ step: code }]';
    const { workflows, problems } = await loadWorkflows({
      builtinDir,
      repoFiles: [
        { path: '.droidworks/workflows/b.yml', content: `name: same\n${def}` },
        { path: '.droidworks/workflows/a.yaml', content: `name: same\n${def}` },
        { path: '.droidworks/workflows/notes.txt', content: 'hello' },
      ],
    });
    expect(workflows.get('same')?.source).toBe('.droidworks/workflows/a.yaml');
    expect(problems).toEqual([
      {
        source: '.droidworks/workflows/b.yml',
        origin: 'repository',
        problems: [{ path: 'name', message: '"same" is already defined in .droidworks/workflows/a.yaml' }],
      },
      {
        source: '.droidworks/workflows/notes.txt',
        origin: 'repository',
        problems: [expect.objectContaining({ path: '(file)' })],
      },
    ]);
  });

  it('reports an invalid built-in and ignores files that are not definitions', async () => {
    tmp = await mkdtemp(join(tmpdir(), 'droidworks-workflows-'));
    await writeFile(
      join(tmp, 'ok.yml'),
      'description: d\ntrigger: { command: run }\nsteps: [{ step: code }]',
    );
    await writeFile(
      join(tmp, 'bad.yml'),
      'description: d\ntrigger: { command: run }\nsteps: [{ step: dance }]',
    );
    await writeFile(join(tmp, 'README.txt'), 'not a workflow');
    // The step kinds that exist come from the engine (`Object.keys(STEP_IMPLS)`).
    const { workflows, problems } = await loadWorkflows({ builtinDir: tmp, stepKinds: ['code'] });
    expect([...workflows.keys()]).toEqual(['ok']);
    expect(problems).toEqual([
      {
        source: join(tmp, 'bad.yml'),
        origin: 'builtin',
        name: 'bad',
        problems: [expect.objectContaining({ path: 'steps[0].step', message: 'must be one of: code' })],
      },
    ]);
  });

  it('fails loudly when the built-in folder is missing', async () => {
    await expect(loadWorkflows({ builtinDir: join(builtinDir, 'nope') })).rejects.toThrow(/ENOENT/);
  });
});
