import { describe, expect, it } from 'vitest';
import { describeEvent } from './describe-event.js';
import type { RunEvent } from './run-event.js';

describe('describeEvent', () => {
  it.each<[RunEvent, string]>([
    [
      { type: 'run.queued', workflow: 'resolve-issue', by: 'alice' },
      'workflow resolve-issue requested by alice',
    ],
    [{ type: 'step.failed', step: 'test', durationMs: 2500, error: 'boom' }, 'test after 2.5 s: boom'],
    [
      { type: 'agent.tool', step: 1, callId: 'c', tool: 'edit', ok: true, resultBytes: 1, durationMs: 1 },
      'edit ok',
    ],
    [
      { type: 'tests', command: 'npm test', passed: false, round: 1, failedTests: ['a', 'b'] },
      'npm test failed (round 1): a, b',
    ],
    [{ type: 'review', approved: false, findings: ['no test', 'typo'] }, 'changes requested: no test; typo'],
    [{ type: 'pull_request', number: 3, created: false, draft: true }, '#3 updated (draft)'],
    [
      { type: 'deploy.health', environment: 'staging', healthy: false, reason: '503' },
      'staging unhealthy: 503',
    ],
  ])('%j → %s', (event, expected) => {
    expect(describeEvent(event)).toBe(expected);
  });

  it('shows an event kind it does not know (a newer writer) as its JSON', () => {
    const unknown = { type: 'something.new', a: 1 } as unknown as RunEvent;
    expect(describeEvent(unknown)).toBe('{"type":"something.new","a":1}');
  });

  it('keeps descriptions to one short line', () => {
    const s = describeEvent({
      type: 'step.failed',
      step: 'code',
      durationMs: 1,
      error: `line\n${'x'.repeat(500)}`,
    });
    expect(s).not.toContain('\n');
    expect(s.length).toBeLessThanOrEqual(240);
  });
});
