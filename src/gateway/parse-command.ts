/** Verbs a `/droid …` command may use. */
export const COMMAND_VERBS = [
  'run',
  'fix',
  'retry',
  'cancel',
  'status',
  'deploy',
  'rollback',
  'approve',
  'help',
] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];

export type ParsedCommand =
  | { readonly ok: true; readonly verb: CommandVerb; readonly args: string; readonly line: string }
  | {
      readonly ok: false;
      readonly verb: string;
      readonly error: 'unknown_verb' | 'missing_args';
      readonly line: string;
    };

/** Most commands one comment may give; the rest are ignored (with one reply saying so). */
export const MAX_COMMANDS_PER_COMMENT = 5;
/** Longest command line kept (the verb and its arguments), like review text. */
export const MAX_COMMAND_CHARS = 65_536;

/**
 * The command lines of one comment that droidworks acts on: the first
 * {@link MAX_COMMANDS_PER_COMMENT}, each cut to {@link MAX_COMMAND_CHARS}, and how many were left
 * out. Pure.
 */
export function capCommandLines(lines: readonly string[]): { lines: string[]; ignored: number } {
  const kept = lines.slice(0, MAX_COMMANDS_PER_COMMENT).map((l) => l.slice(0, MAX_COMMAND_CHARS));
  return { lines: kept, ignored: Math.max(0, lines.length - kept.length) };
}

const NEEDS_ARGS: ReadonlySet<CommandVerb> = new Set(['fix']);

/**
 * Finds the commands in a comment body. A command is a line of its own that starts with the
 * prefix (case-insensitive), anywhere in the comment; lines inside fenced code blocks, indented
 * code and quotes (`> /droid …`) are not commands. Pure: no I/O.
 */
export function parseCommands(body: string, prefix = '/droid'): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  const lowerPrefix = prefix.toLowerCase();
  let fence: string | undefined;
  for (const rawLine of body.split(/\r?\n/)) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(rawLine);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    if (/^( {4}|\t)/.test(rawLine)) continue;
    const line = rawLine.trim();
    if (!line.toLowerCase().startsWith(lowerPrefix)) continue;
    const rest = line.slice(prefix.length);
    if (rest !== '' && !/^\s/.test(rest)) continue; // `/droidx` is not our command
    const [word = '', ...more] = rest.trim().split(/\s+/);
    const verb = word.toLowerCase();
    const args = more.join(' ');
    if (verb === '') {
      commands.push({ ok: true, verb: 'help', args: '', line });
    } else if (!(COMMAND_VERBS as readonly string[]).includes(verb)) {
      commands.push({ ok: false, verb, error: 'unknown_verb', line });
    } else if (NEEDS_ARGS.has(verb as CommandVerb) && args === '') {
      commands.push({ ok: false, verb, error: 'missing_args', line });
    } else {
      commands.push({ ok: true, verb: verb as CommandVerb, args, line });
    }
  }
  return commands;
}

/** The reply listing what the droid understands. */
export function commandHelp(prefix = '/droid'): string {
  return [
    `Commands (a line of its own, from someone with write access):`,
    `- \`${prefix} run\` start or restart the droid on this issue`,
    `- \`${prefix} fix <instructions>\` another round on the droid's pull request with these instructions`,
    `- \`${prefix} retry\` rerun the last failed run`,
    `- \`${prefix} cancel\` stop the running run`,
    `- \`${prefix} status\` the run's state and queue position`,
    `- \`${prefix} approve\` approve the plan when the repository asks for approval`,
    `- \`${prefix} deploy [environment]\` / \`${prefix} rollback [environment]\``,
    `- \`${prefix} help\` this list`,
  ].join('\n');
}
