import { describe, expect, it } from 'vitest';
import { buildHistory, type StepRecord } from './history.js';

const step = (i: number): StepRecord => ({
  text: '',
  toolCalls: [
    {
      id: `c${i}`,
      name: 'str_replace_based_edit_tool',
      arguments: { command: 'create', path: `f${i}.ts`, file_text: 'x'.repeat(2000) },
    },
  ],
  results: [{ callId: `c${i}`, content: 'y'.repeat(3000), isError: false, summary: `create f${i}.ts: ok` }],
});

describe('buildHistory', () => {
  it('keeps recent steps whole, summarises older ones and drops the oldest, keeping call/result pairs', () => {
    const steps = Array.from({ length: 60 }, (_, i) => step(i));
    const messages = buildHistory('task', steps, { keepRecent: 2, keepSummarised: 3 });
    expect(messages.map((m) => m.role)).toEqual([
      'user',
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
      'tool',
    ]);
    expect(messages[1]).toMatchObject({ content: expect.stringContaining('55 earlier steps were dropped') });
    const old = messages[3] as unknown as { results: Array<{ content: string; callId: string }> };
    expect(old.results[0]).toEqual({
      callId: 'c55',
      content: '[older output elided] create f55.ts: ok',
      isError: false,
    });
    const oldCall = messages[2] as unknown as { toolCalls: Array<{ arguments: { file_text: string } }> };
    expect(oldCall.toolCalls[0]!.arguments.file_text).toMatch(/\[1920 characters elided\]$/);
    const recent = messages[11] as unknown as { results: Array<{ content: string }> };
    expect(recent.results[0]!.content).toHaveLength(3000);
  });

  it('grows boundedly: step 200 is less than 4x step 10', () => {
    const size = (n: number) =>
      JSON.stringify(
        buildHistory(
          't'.repeat(8000),
          Array.from({ length: n }, (_, i) => step(i)),
        ),
      ).length;
    expect(size(200) / size(10)).toBeLessThan(4);
  });
});
