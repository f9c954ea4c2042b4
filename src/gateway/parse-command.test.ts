import { describe, expect, it } from 'vitest';
import {
  capCommandLines,
  MAX_COMMAND_CHARS,
  MAX_COMMANDS_PER_COMMENT,
  parseCommands,
} from './parse-command.js';
import { routeEvent } from './route-event.js';

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

describe('command caps (one comment, a thousand commands)', () => {
  it.each<[string, string[], number, number]>([
    ['under the cap', ['/droid help', '/droid status'], 2, 0],
    ['exactly five', Array.from({ length: 5 }, () => '/droid help'), 5, 0],
    ['a thousand', Array.from({ length: 1000 }, () => '/droid help'), 5, 995],
  ])('%s', (_name, lines, kept, ignored) => {
    const capped = capCommandLines(lines);
    expect(capped.lines).toHaveLength(kept);
    expect(capped.ignored).toBe(ignored);
  });

  it('cuts a 1 MB command line to 64 kB', () => {
    const capped = capCommandLines([`/droid fix ${'x'.repeat(1024 * 1024)}`]);
    expect(capped.lines[0]).toHaveLength(MAX_COMMAND_CHARS);
  });

  it('routes a comment of 1000 `/droid help` lines as one job of five commands', () => {
    const routed = routeEvent(
      'issue_comment',
      {
        action: 'created',
        repository: { name: 'r', owner: { login: 'o' } },
        sender: { login: 'alice', type: 'User' },
        issue: { number: 1, title: 't' },
        comment: { id: 7, body: Array.from({ length: 1000 }, () => '/droid help').join('\n') },
      },
      { triggerLabel: 'droid', commandPrefix: '/droid' },
    );
    expect(routed).toMatchObject({
      accepted: true,
      job: {
        kind: 'command',
        commands: Array.from({ length: 5 }, () => '/droid help'),
        commandsIgnored: 995,
      },
    });
    expect(MAX_COMMANDS_PER_COMMENT).toBe(5);
  });
});
