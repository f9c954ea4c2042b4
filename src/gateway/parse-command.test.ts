import { describe, expect, it } from 'vitest';
import { parseCommands } from './parse-command.js';

describe('parseCommands', () => {
  const cases: Array<[string, string, Array<Record<string, unknown>>]> = [
    ['plain run', '/droid run', [{ ok: true, verb: 'run', args: '' }]],
    ['case-insensitive prefix and verb', '/DROID Run', [{ ok: true, verb: 'run' }]],
    ['fix with instructions', '/droid fix use a Map instead', [{ verb: 'fix', args: 'use a Map instead' }]],
    ['fix without instructions', '/droid fix', [{ ok: false, error: 'missing_args' }]],
    ['deploy with environment', '/droid deploy staging', [{ verb: 'deploy', args: 'staging' }]],
    ['bare prefix means help', '/droid', [{ ok: true, verb: 'help' }]],
    ['unknown verb', '/droid dance now', [{ ok: false, verb: 'dance', error: 'unknown_verb' }]],
    ['command in the middle of a comment', 'Thanks!\n\n  /droid retry  \nbye', [{ verb: 'retry' }]],
    ['two commands', '/droid status\n/droid cancel', [{ verb: 'status' }, { verb: 'cancel' }]],
    ['inside a fenced code block', 'see:\n```\n/droid run\n```', []],
    ['inside a tilde fence', '~~~sh\n/droid run\n~~~\n/droid status', [{ verb: 'status' }]],
    ['after a closed fence', '```\nx\n```\n/droid cancel', [{ verb: 'cancel' }]],
    ['quoted', '> /droid run\nI agree', []],
    ['indented code', '    /droid run', []],
    ['prefix must be a word of its own', '/droidrun', []],
    ['not at line start', 'please /droid run', []],
    ['empty body', '', []],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    const parsed = parseCommands(body);
    expect(parsed).toHaveLength(expected.length);
    expected.forEach((fields, i) => expect(parsed[i]).toMatchObject(fields));
  });

  it('honours a custom prefix', () => {
    expect(parseCommands('@bot run\n/droid run', '@bot')).toMatchObject([{ verb: 'run' }]);
  });
});
