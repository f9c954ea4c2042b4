import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../ledger/index.js';
import { runSteps, StepFailedError, UnknownStepError, type StepImpl, type StepSpec } from './run-steps.js';

type Ctx = { calls: string[]; plan?: string; testFailuresLeft: number; flaky: number };

const impls: Record<string, StepImpl<Ctx>> = {
  plan: {
    run: async (c) => {
      c.calls.push('plan');
      c.plan = 'do it';
      return { saved: { plan: c.plan } };
    },
    restore: (c, saved) => void (c.plan = String(saved.plan)),
  },
  code: { run: async (c) => void c.calls.push('code') },
  test: {
    run: async (c) => {
      c.calls.push('test');
      if (c.testFailuresLeft-- > 0) return { goto: 'code' };
      return undefined;
    },
  },
  flaky: {
    run: async (c) => {
      c.calls.push('flaky');
      if (c.flaky-- > 0) throw new Error('502 from GitHub');
    },
  },
  broken: {
    run: async () => {
      throw new StepFailedError('broken', 'bad config');
    },
  },
};
const spec = (...names: string[]): StepSpec[] => names.map((name) => ({ name, options: {}, retries: 2 }));

function sink(): { events: RunEvent[]; emit(e: RunEvent): Promise<void> } {
  const events: RunEvent[] = [];
  return { events, emit: async (e) => void events.push(e) };
}

describe('runSteps', () => {
  const base = (over: Partial<Ctx> = {}): Ctx => ({ calls: [], testFailuresLeft: 0, flaky: 0, ...over });

  it('runs steps in order and records each transition', async () => {
    const ctx = base();
    const s = sink();
    await runSteps({
      steps: spec('plan', 'code', 'test'),
      impls,
      ctx,
      sink: s,
      signal: new AbortController().signal,
    });
    expect(ctx.calls).toEqual(['plan', 'code', 'test']);
    expect(s.events.map((e) => `${e.type}:${'step' in e ? e.step : ''}`)).toEqual([
      'step.started:plan',
      'step.completed:plan',
      'step.started:code',
      'step.completed:code',
      'step.started:test',
      'step.completed:test',
    ]);
  });

  it('loops back on goto, bounded by maxLoops', async () => {
    const ctx = base({ testFailuresLeft: 10 });
    await runSteps({
      steps: spec('code', 'test'),
      impls,
      ctx,
      sink: sink(),
      signal: new AbortController().signal,
      maxLoops: 2,
    });
    expect(ctx.calls).toEqual(['code', 'test', 'code', 'test', 'code', 'test']);
  });

  it('retries a failing step, but not a StepFailedError', async () => {
    const ctx = base({ flaky: 2 });
    await runSteps({
      steps: spec('flaky'),
      impls,
      ctx,
      sink: sink(),
      signal: new AbortController().signal,
      retryDelayMs: () => 1,
    });
    expect(ctx.calls).toEqual(['flaky', 'flaky', 'flaky']);
    const s = sink();
    await expect(
      runSteps({
        steps: spec('broken'),
        impls,
        ctx: base(),
        sink: s,
        signal: new AbortController().signal,
        retryDelayMs: () => 1,
      }),
    ).rejects.toThrow(StepFailedError);
    expect(s.events.filter((e) => e.type === 'step.retry')).toHaveLength(0);
  });

  it('resumes: a step with saved output is restored, not run again', async () => {
    const first = sink();
    await runSteps({
      steps: spec('plan'),
      impls,
      ctx: base(),
      sink: first,
      signal: new AbortController().signal,
    });
    const previous = first.events.map((e, i) => ({ ...e, id: String(i), at: 0 }));
    const ctx = base();
    await runSteps({
      steps: spec('plan', 'code'),
      impls,
      ctx,
      sink: sink(),
      signal: new AbortController().signal,
      previous,
    });
    expect(ctx.calls).toEqual(['code']);
    expect(ctx.plan).toBe('do it');
  });

  it('stops when cancelled and refuses unknown steps', async () => {
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    await expect(
      runSteps({ steps: spec('code'), impls, ctx: base(), sink: sink(), signal: ac.signal }),
    ).rejects.toThrow('cancelled');
    await expect(
      runSteps({
        steps: spec('nope'),
        impls,
        ctx: base(),
        sink: sink(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(UnknownStepError);
  });
});

describe('runSteps after a failure', () => {
  it('skips success steps, runs always/failure steps, then rethrows the first error', async () => {
    const calls: string[] = [];
    const mk = (name: string, fail = false): StepImpl<null> => ({
      run: async () => {
        calls.push(name);
        if (fail) throw new StepFailedError(name, `${name} broke`);
      },
    });
    const s = { events: [] as RunEvent[], emit: async (e: RunEvent) => void s.events.push(e) };
    await expect(
      runSteps<null>({
        steps: [
          { name: 'code', options: {} },
          { name: 'publish', options: {} },
          { name: 'rollback', options: {}, if: 'failure' },
          { name: 'report', options: {}, if: 'always' },
        ],
        impls: {
          code: mk('code', true),
          publish: mk('publish'),
          rollback: mk('rollback'),
          report: mk('report'),
        },
        ctx: null,
        sink: s,
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('code broke');
    expect(calls).toEqual(['code', 'rollback', 'report']);
  });
});
