import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideGate, type ObservedCheckRun, type ObservedStatus } from './decide-gate.js';

const run = (name: string, status: string, conclusion: string | null = null): ObservedCheckRun => ({
  name,
  status,
  conclusion,
});
const st = (context: string, state: string): ObservedStatus => ({ context, state });

describe('decideGate', () => {
  it.each<[string, string[], ObservedCheckRun[], ObservedStatus[], string, string[]]>([
    ['all green check runs', [], [run('ci', 'completed', 'success')], [], 'deploy', []],
    [
      'neutral and skipped pass',
      [],
      [run('a', 'completed', 'neutral'), run('b', 'completed', 'skipped')],
      [],
      'deploy',
      [],
    ],
    ['nothing reported, nothing required', [], [], [], 'deploy', []],
    [
      'a failed run blocks',
      [],
      [run('ci', 'completed', 'failure'), run('lint', 'in_progress')],
      [],
      'block',
      ['ci'],
    ],
    ['cancelled blocks', [], [run('ci', 'completed', 'cancelled')], [], 'block', ['ci']],
    ['timed_out blocks', [], [run('ci', 'completed', 'timed_out')], [], 'block', ['ci']],
    ['action_required blocks', [], [run('ci', 'completed', 'action_required')], [], 'block', ['ci']],
    ['stale blocks', [], [run('ci', 'completed', 'stale')], [], 'block', ['ci']],
    ['an error status blocks', [], [], [st('build', 'error')], 'block', ['build']],
    [
      'a failing status blocks',
      [],
      [run('ci', 'completed', 'success')],
      [st('build', 'failure')],
      'block',
      ['build'],
    ],
    ['a pending run waits', [], [run('ci', 'queued')], [], 'wait', ['ci']],
    [
      'a pending status waits',
      [],
      [run('ci', 'completed', 'success')],
      [st('build', 'pending')],
      'wait',
      ['build'],
    ],
    [
      'a missing required check waits',
      ['ci', 'deploy-check'],
      [run('ci', 'completed', 'success')],
      [],
      'wait',
      ['deploy-check'],
    ],
    [
      'an unrequired failure is ignored',
      ['ci'],
      [run('ci', 'completed', 'success'), run('flaky', 'completed', 'failure')],
      [],
      'deploy',
      [],
    ],
    ['a required status context counts', ['build'], [], [st('build', 'success')], 'deploy', []],
    [
      'worst of run and status with one name',
      ['ci'],
      [run('ci', 'completed', 'success')],
      [st('ci', 'failure')],
      'block',
      ['ci'],
    ],
  ])('%s', (_label, required, runs, statuses, verdict, names) => {
    const decision = decideGate(required, runs, statuses);
    expect(decision.verdict).toBe(verdict);
    if (decision.verdict === 'block') expect(decision.failed.map((c) => c.name)).toEqual(names);
    if (decision.verdict === 'wait') expect(decision.waiting.map((c) => c.name)).toEqual(names);
  });

  const name = fc.constantFrom('ci', 'lint', 'build', 'e2e', 'droidworks/tests');
  const conclusion = fc.constantFrom(
    'success',
    'neutral',
    'skipped',
    'failure',
    'cancelled',
    'timed_out',
    'action_required',
    'stale',
    'startup_failure',
    null,
  );
  const checkRun = fc.record({
    name,
    status: fc.constantFrom('queued', 'in_progress', 'completed', 'waiting'),
    conclusion,
  });
  const status = fc.record({
    context: name,
    state: fc.constantFrom('success', 'pending', 'failure', 'error'),
  });

  it('never deploys with a failed, missing or pending required check', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { maxLength: 4 }),
        fc.array(checkRun, { maxLength: 8 }),
        fc.array(status, { maxLength: 6 }),
        (required, runs, statuses) => {
          const decision = decideGate(required, runs, statuses);
          if (decision.verdict !== 'deploy') return;
          const names =
            required.length > 0
              ? required
              : [...new Set([...runs.map((r) => r.name), ...statuses.map((s) => s.context)])];
          for (const n of names) {
            const rs = runs.filter((r) => r.name === n);
            const ss = statuses.filter((s) => s.context === n);
            // Required and reported…
            expect(rs.length + ss.length).toBeGreaterThan(0);
            // …and every report of it passed.
            for (const r of rs) {
              expect(r.status).toBe('completed');
              expect(['success', 'neutral', 'skipped']).toContain(r.conclusion);
            }
            for (const s of ss) expect(s.state).toBe('success');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('blocks whenever a required check has failed', () => {
    fc.assert(
      fc.property(fc.array(checkRun, { minLength: 1, maxLength: 8 }), (runs) => {
        const failedOne = runs.find(
          (r) => r.status === 'completed' && !['success', 'neutral', 'skipped'].includes(r.conclusion ?? ''),
        );
        const decision = decideGate([], runs, []);
        expect(decision.verdict === 'block').toBe(failedOne !== undefined);
      }),
      { numRuns: 1000 },
    );
  });
});
