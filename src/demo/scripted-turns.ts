/**
 * The scripted model's part in the demo (and in the end-to-end tests): what a competent model would
 * answer for the sample repository, step by step, through the same tools a real model uses.
 * Provider-neutral; `createScriptedProvider` and the tests' fake model server both play it.
 */
export type ScriptedRole = 'planner' | 'reviewer' | 'coder';

export interface ScriptedTurn {
  readonly text?: string;
  readonly toolCall?: { readonly name: string; readonly arguments: Record<string, unknown> };
}

/** Which role a request is for, from its (trusted) system prompt. */
export function scriptedRoleOf(system: string): ScriptedRole {
  if (system.includes('You are the planner')) return 'planner';
  if (system.includes('You review a change')) return 'reviewer';
  return 'coder';
}

const CODER_TURNS: readonly ScriptedTurn[] = [
  { toolCall: { name: 'str_replace_based_edit_tool', arguments: { command: 'view', path: 'calc.js' } } },
  {
    toolCall: {
      name: 'str_replace_based_edit_tool',
      arguments: {
        command: 'str_replace',
        path: 'calc.js',
        old_str: '  return a - b;',
        new_str: '  return a + b;',
      },
    },
  },
  { toolCall: { name: 'bash', arguments: { command: 'npm test 2>&1 | tail -n 15' } } },
  {
    toolCall: {
      name: 'finish',
      arguments: {
        summary:
          'Fixed `add` in calc.js: it subtracted instead of adding. `npm test` now passes (add adds, multiply multiplies).',
      },
    },
  },
];

/**
 * The next turn for `role`, given how many coder turns were already answered (the assistant
 * messages in the request). Past the script, the coder finishes.
 */
export function scriptedTurn(role: ScriptedRole, coderTurnsSoFar: number): ScriptedTurn {
  if (role === 'planner')
    return {
      text: '- Read `add` in calc.js\n- Make `add` return the sum a + b\n- Run `npm test` and check both tests pass',
    };
  if (role === 'reviewer')
    return { text: 'VERDICT: approve\nThe diff fixes add() and touches nothing else.' };
  return CODER_TURNS[Math.min(coderTurnsSoFar, CODER_TURNS.length - 1)]!;
}
