import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../config/repo-config.js';
import { parseWorkflow, type WorkflowDefinition } from '../workflows/parse-workflow.js';
import {
  desiredSchedules,
  jitterDelaySec,
  scheduleProblem,
  schedulerIdFor,
  type DesiredSchedule,
} from './desired-schedules.js';
import { admitBranches, maintenanceBranch, prLimitReason } from './limits.js';
import { nextRunText, renderDashboard, tickedWorkflows } from './render-dashboard.js';
import { planSync } from './sync-schedules.js';
import { decideStale } from './decide-stale.js';
import { findFlaky, renderFlaky } from './find-flaky.js';
import { planDependencyUpdates, renderUpdateTable } from './plan-dependency-updates.js';

const repo = { owner: 'Acme', name: 'API' };

function workflow(text: string, source: string, origin: WorkflowDefinition['origin'] = 'repository') {
  const parsed = parseWorkflow(text, source, origin);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.workflow;
}

const promptWorkflow = workflow(
  '---\ndescription: changelog\ntrigger: { schedule: { cron: "0 9 * * 1", timezone: Europe/Berlin, jitterSec: 600 } }\n---\nUpdate CHANGELOG.md.',
  '.droidworks/workflows/changelog.md',
);
const staleBuiltin = workflow(
  'name: stale-branches\ndescription: stale\ntrigger: { schedule: "0 4 * * 0" }\npermissions: [comment]\nsteps: [{ step: report }]',
  'workflows/stale-branches.yml',
  'builtin',
);

describe('schedule triggers in workflow files', () => {
  it('a prompt workflow with only a schedule gets the issue steps', () => {
    expect(promptWorkflow.trigger.schedule).toEqual({
      cron: '0 9 * * 1',
      timezone: 'Europe/Berlin',
      jitterSec: 600,
    });
    expect(promptWorkflow.steps.map((s) => s.step)).toEqual([
      'checkout',
      'code',
      'test',
      'review',
      'publish',
      'report',
    ]);
    expect(promptWorkflow.prompt).toBe('Update CHANGELOG.md.');
  });

  it.each([
    ['"0 3 * * 1"', { cron: '0 3 * * 1' }],
    ['"*/2 * * * * *"', { cron: '*/2 * * * * *' }],
    ['"@daily"', { cron: '@daily' }],
  ])('accepts schedule %s', (schedule, expected) => {
    const def = workflow(
      `description: x\ntrigger: { schedule: ${schedule} }\npermissions: [comment]\nsteps: [{ step: report }]`,
      'x.yml',
    );
    expect(def.trigger.schedule).toEqual(expected);
  });

  it('rejects a schedule that is not cron', () => {
    const parsed = parseWorkflow(
      'description: x\ntrigger: { schedule: "every monday" }\nsteps: [{ step: report }]',
      'x.yml',
    );
    expect(parsed.ok).toBe(false);
  });
});

describe('scheduleProblem', () => {
  it.each([
    [{ cron: '0 9 * * 1' }, undefined],
    [{ cron: '*/2 * * * * *' }, undefined],
    [{ cron: '0 9 * * 1', timezone: 'Europe/Berlin' }, undefined],
    [{ cron: '0 9 * * 1', timezone: 'Mars/Olympus' }, /unknown time zone/],
    [{ cron: '0 9 * *' }, /needs 5 fields/],
    [{ cron: '99 9 * * 1' }, /not a valid cron/],
  ])('%j → %s', (spec, expected) => {
    const problem = scheduleProblem(spec);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

describe('desiredSchedules', () => {
  it('schedules repository workflows, and built-ins only when maintenance: enables them', () => {
    const workflows = new Map([
      [promptWorkflow.name, promptWorkflow],
      [staleBuiltin.name, staleBuiltin],
    ]);
    const off = desiredSchedules(repo, { config: parseRepoConfig(''), workflows });
    expect(off.schedules.map((s) => s.workflow)).toEqual(['changelog']);
    const on = desiredSchedules(repo, {
      config: parseRepoConfig(
        'maintenance:\n  stale-branches: { schedule: "0 5 * * 0", timezone: UTC }\n  flaky-tests: { schedule: "0 3 * * *" }',
      ),
      workflows,
    });
    expect(on.schedules.map((s) => [s.id, s.cron, s.timezone])).toEqual([
      ['acme/api/changelog', '0 9 * * 1', 'Europe/Berlin'],
      ['acme/api/stale-branches', '0 5 * * 0', 'UTC'],
    ]);
    expect(on.problems).toEqual(['maintenance.flaky-tests: no workflow named flaky-tests is installed']);
    expect(on.schedules[0]!.delaySec).toBe(jitterDelaySec('acme/api/changelog', 600));
  });

  it('reports an invalid schedule instead of failing', () => {
    const found = desiredSchedules(repo, {
      config: parseRepoConfig('maintenance:\n  stale-branches: { schedule: "61 * * * *" }'),
      workflows: new Map([[staleBuiltin.name, staleBuiltin]]),
    });
    expect(found.schedules).toEqual([]);
    expect(found.problems[0]).toMatch(
      /^\.droidworks\.yml maintenance\.stale-branches\.schedule: "61 \* \* \* \*"/,
    );
  });
});

describe('jitterDelaySec', () => {
  it('is stable, within the window, and spreads many repositories', () => {
    const delays = Array.from({ length: 1000 }, (_, i) => jitterDelaySec(`org/repo-${i}/deps`, 3600));
    expect(jitterDelaySec('org/repo-1/deps', 3600)).toBe(delays[1]);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3600);
    const buckets = new Array(10).fill(0);
    for (const d of delays) buckets[Math.min(9, Math.floor(d / 360))] += 1;
    for (const b of buckets) expect(b).toBeGreaterThan(50);
    expect(jitterDelaySec('x', 0)).toBe(0);
  });
});

describe('planSync', () => {
  const d = (workflow: string, cron = '0 9 * * 1'): DesiredSchedule => ({
    id: schedulerIdFor(repo, workflow),
    owner: 'Acme',
    name: 'API',
    workflow,
    cron,
    timezone: undefined,
    delaySec: 0,
  });
  const stored = (s: DesiredSchedule) => ({
    id: s.id,
    cron: s.cron,
    timezone: s.timezone,
    data: { owner: s.owner, name: s.name, workflow: s.workflow, delaySec: s.delaySec },
    next: undefined,
  });
  it.each([
    ['new schedule', [d('a')], [], ['acme/api/a'], []],
    ['unchanged is left alone', [d('a')], [stored(d('a'))], [], []],
    ['changed cron is upserted', [d('a', '0 10 * * 1')], [stored(d('a'))], ['acme/api/a'], []],
    ['removed workflow loses its scheduler', [], [stored(d('a'))], [], ['acme/api/a']],
  ])('%s', (_name, desired, have, upserts, removes) => {
    const plan = planSync(desired, have);
    expect(plan.upsert.map((s) => s.id)).toEqual(upserts);
    expect(plan.remove).toEqual(removes);
  });
  it('a one-repository sync leaves other repositories alone', () => {
    const other = { ...stored(d('a')), id: 'acme/web/a' };
    expect(planSync([], [other, stored(d('b'))], ['acme/api']).remove).toEqual(['acme/api/b']);
  });
});

describe('prLimitReason', () => {
  const limits = { openPrs: 2, prsPerDay: 1 };
  it.each([
    ['room left', [], 0, undefined],
    ['its own PR is open: refresh', ['droid/maintenance/x', 'droid/maintenance/y'], 5, undefined],
    ['open limit', ['droid/maintenance/y', 'droid/maintenance/z'], 0, /limits\.openPrs: 2/],
    ['daily limit', ['droid/maintenance/y'], 1, /limits\.prsPerDay: 1/],
    ['human PRs do not count', ['feature/a', 'feature/b'], 0, undefined],
    [
      'another group of the workflow does not count as its own',
      ['droid/maintenance/x-a', 'droid/maintenance/y'],
      0,
      /limits\.openPrs: 2/,
    ],
  ])('%s', (_name, openBranches, openedToday, expected) => {
    const reason = prLimitReason({ branch: maintenanceBranch('x'), openBranches, openedToday, limits });
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});

describe('admitBranches (one PR per dependency group)', () => {
  const g = (group: string) => maintenanceBranch('dependency-update', group);
  it.each([
    ['room for both', { openPrs: 5, prsPerDay: 5 }, [], 0, [g('a'), g('b')], []],
    ['one tick never passes prsPerDay', { openPrs: 5, prsPerDay: 1 }, [], 0, [g('a')], [g('b')]],
    ['nor openPrs', { openPrs: 2, prsPerDay: 9 }, ['droid/maintenance/other'], 0, [g('a')], [g('b')]],
    [
      'an open group PR is refreshed whatever the limits',
      { openPrs: 1, prsPerDay: 0 },
      [g('b')],
      3,
      [g('b')],
      [g('a')],
    ],
  ] as const)('%s', (_name, limits, open, openedToday, admitted, waiting) => {
    const result = admitBranches({ branches: [g('a'), g('b')], openBranches: open, openedToday, limits });
    expect(result.admitted).toEqual(admitted);
    expect(result.waits.map((w) => w.branch)).toEqual(waiting);
  });
});

describe('dependency group names', () => {
  it('are fit for a branch and a job, whatever the package name', () => {
    const meta = new Map([['@Weird/Pkg!name', { name: '@Weird/Pkg!name', versions: ['1.0.0', '1.0.1'] }]]);
    const [none] = planDependencyUpdates({ '@Weird/Pkg!name': '^1.0.0' }, meta, {
      update: 'patch',
      group: 'none',
      ignore: [],
    });
    const [scope] = planDependencyUpdates({ '@Weird/Pkg!name': '^1.0.0' }, meta, {
      update: 'patch',
      group: 'by-scope',
      ignore: [],
    });
    expect([none?.group, scope?.group]).toEqual(['weird-pkg-name', 'weird']);
  });
});

describe('dashboard', () => {
  it('renders one checkbox per workflow and reads ticked ones back', () => {
    const body = renderDashboard({
      workflows: [
        { workflow: 'changelog', cron: '0 9 * * 1', timezone: 'Europe/Berlin' },
        { workflow: 'stale-branches', cron: '0 4 * * 0', timezone: undefined, waiting: 'limits' },
      ],
      openPrs: [],
      problems: ['bad schedule'],
      costUsd: 1.5,
      maxCostUsdPerMonth: 20,
      commandPrefix: '/droid',
      now: Date.UTC(2026, 10, 30, 12),
    });
    expect(tickedWorkflows(body)).toEqual([]);
    expect(body).toContain('Mon, 07/12/2026, 09:00:00 (Europe/Berlin)');
    expect(body).toContain('- bad schedule');
    const ticked = body.replace(
      '- [ ] <!-- droidworks:run-workflow=stale-branches',
      '- [x] <!-- droidworks:run-workflow=stale-branches',
    );
    expect(tickedWorkflows(ticked)).toEqual(['stale-branches']);
  });
  it('shows the last run of each dependency group (they run at once), else the one last run', () => {
    const run = (runId: string, status: string, pr: number) => ({
      runId,
      status,
      costUsd: 0.01,
      at: 0,
      pullRequest: { number: pr, url: `https://example.test/pull/${pr}` },
    });
    const body = renderDashboard({
      workflows: [
        {
          workflow: 'dependency-update',
          cron: '0 6 * * 1',
          timezone: undefined,
          lastRun: run('old-all', 'succeeded', 2),
          groupRuns: [
            { group: 'tiny-a', run: run('run-a', 'succeeded', 3) },
            { group: 'tiny-b', run: run('run-b', 'failed', 4) },
          ],
        },
        { workflow: 'changelog', cron: '0 9 * * 1', timezone: undefined, lastRun: run('run-c', 'failed', 5) },
      ],
      openPrs: [],
      problems: [],
      costUsd: 0,
      maxCostUsdPerMonth: 20,
      commandPrefix: '/droid',
      now: Date.UTC(2026, 10, 30, 12),
    });
    expect(body).toContain(
      [
        '**dependency-update** (`0 6 * * 1`)',
        '  - last run (`tiny-a`): `run-a` succeeded, $0.01, PR #3',
        '  - last run (`tiny-b`): `run-b` failed, $0.01, PR #4',
        '  - next run: ',
      ].join('\n'),
    );
    expect(body).not.toContain('old-all');
    expect(body).toContain('**changelog** (`0 9 * * 1`)\n  - last run: `run-c` failed, $0.01, PR #5');
  });
  it('next run is in the schedule time zone', () => {
    expect(nextRunText('0 9 * * *', 'America/New_York', Date.UTC(2026, 0, 1, 0))).toMatch(
      /01\/01\/2026, 09:00:00 \(America\/New_York\)/,
    );
  });
});

describe('decideStale', () => {
  const now = Date.UTC(2026, 10, 30);
  const daysAgo = (n: number) => new Date(now - n * 86_400_000).toISOString();
  it.each([
    ['fresh PR', { updatedAt: daysAgo(3) }, 'none'],
    ['stale PR gets the warning', { updatedAt: daysAgo(31) }, 'warn'],
    ['warned, grace not over', { updatedAt: daysAgo(1), warnedAt: daysAgo(2) }, 'none'],
    ['warned, grace over', { updatedAt: daysAgo(1), warnedAt: daysAgo(8) }, 'close'],
    [
      'someone spoke after the warning',
      { updatedAt: daysAgo(1), warnedAt: daysAgo(8), lastHumanCommentAt: daysAgo(5) },
      'none',
    ],
    ['recent human comment keeps it', { updatedAt: daysAgo(40), lastHumanCommentAt: daysAgo(2) }, 'none'],
  ] as const)('%s', (_name, times, expected) => {
    expect(decideStale({ ...times, staleDays: 30, graceDays: 7, now })).toBe(expected);
  });
});

describe('findFlaky', () => {
  const run = (failed: string[]) => ({
    passed: failed.length === 0,
    failedTests: failed,
    output: `out ${failed.join()}`,
  });
  it('names only tests that both passed and failed', () => {
    const flaky = findFlaky([
      run(['random', 'broken']),
      run(['broken']),
      run(['random', 'broken']),
      run(['broken']),
    ]);
    expect(flaky.map((f) => [f.name, f.failures, f.runs])).toEqual([['random', 2, 4]]);
    expect(flaky[0]!.lastFailure).toBe('out random,broken');
  });
  it('ignores reruns whose failures had no names', () => {
    expect(findFlaky([run([]), { passed: false, failedTests: [], output: 'crash' }, run([])])).toEqual([]);
  });
  it('renders a failure rate per test', () => {
    const body = renderFlaky({
      flaky: [{ name: 'random', failures: 2, runs: 4, lastFailure: 'boom' }],
      command: 'npm test',
      runs: 4,
      runId: 'r1',
      at: '2026-11-30 03:00 UTC',
    });
    expect(body).toContain('| `random` | 2/4 (50%) |');
    expect(body).toContain('boom');
  });
});

describe('planDependencyUpdates', () => {
  const meta = new Map(
    [
      {
        name: 'left-pad',
        versions: ['1.0.0', '1.0.1', '1.1.0', '2.0.0', '2.1.0-beta.1'],
        homepage: 'https://example.test/left-pad',
      },
      { name: '@acme/ui', versions: ['3.0.0', '3.0.5'] },
      { name: 'react', versions: ['18.0.0', '19.0.0'] },
      { name: 'tagged', versions: ['1.0.0', '2.0.0'] },
    ].map((m) => [m.name, m]),
  );
  const deps = {
    'left-pad': '^1.0.0',
    '@acme/ui': '~3.0.0',
    react: '^18.0.0',
    tagged: 'latest',
    missing: '^1.0.0',
  };
  it.each([
    [
      'patch',
      'all',
      [
        ['@acme/ui', '~3.0.5', 'patch', 'all'],
        ['left-pad', '^1.0.1', 'patch', 'all'],
      ],
    ],
    [
      'minor',
      'all',
      [
        ['@acme/ui', '~3.0.5', 'patch', 'all'],
        ['left-pad', '^1.1.0', 'minor', 'all'],
      ],
    ],
    [
      'major',
      'by-scope',
      [
        ['@acme/ui', '~3.0.5', 'patch', 'acme'],
        ['left-pad', '^2.0.0', 'major', 'unscoped'],
      ],
    ],
    [
      'minor',
      'none',
      [
        ['@acme/ui', '~3.0.5', 'patch', 'acme-ui'],
        ['left-pad', '^1.1.0', 'minor', 'left-pad'],
      ],
    ],
  ] as const)('update: %s, group: %s', (update, group, expected) => {
    const plan = planDependencyUpdates(deps, meta, { update, group, ignore: ['react'] });
    expect(plan.map((u) => [u.name, u.to, u.type, u.group])).toEqual(expected);
  });
  it('renders the table with release notes when known', () => {
    const table = renderUpdateTable(
      planDependencyUpdates({ 'left-pad': '^1.0.0' }, meta, { update: 'minor', group: 'all', ignore: [] }),
    );
    expect(table).toContain(
      '| `left-pad` | `^1.0.0` → `^1.1.0` | minor | [notes](https://example.test/left-pad) |',
    );
  });
});
