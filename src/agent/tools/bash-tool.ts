import { z } from 'zod';
import { truncateOutput } from '../truncate-output.js';
import { defineTool } from './agent-tool.js';

/** `bash`: one command in the run's sandbox, through the injected `CommandExecutor`. */
export const bashTool = defineTool({
  name: 'bash',
  description: [
    "Run one command with bash in the repository root, inside the run's sandbox, and get its exit code, stdout and stderr.",
    'Each call is a fresh shell: `cd` and variables do not carry over (chain with `&&`).',
    'Use it to build, run tests and inspect the repository. Do not start interactive programs or servers that never exit.',
    'Long outputs keep their head and tail.',
  ].join('\n'),
  input: z.object({
    command: z.string().min(1).describe('The bash command to run.'),
    restart: z
      .boolean()
      .optional()
      .describe('Accepted for compatibility; every command already runs in a fresh shell.'),
  }),
  async run({ command }, ctx) {
    const result = await ctx.executor.exec(command, { signal: ctx.signal, timeoutMs: ctx.commandTimeoutMs });
    const parts = [
      `exit code: ${result.exitCode}${result.timedOut ? ' (timed out and killed)' : ''}${result.oomKilled ? ' (out of memory)' : ''}`,
    ];
    if (result.stdout)
      parts.push(
        `stdout:\n${truncateOutput(result.stdout, { maxChars: 8000, maxLines: 200, headShare: 0.3 })}`,
      );
    if (result.stderr)
      parts.push(
        `stderr:\n${truncateOutput(result.stderr, { maxChars: 4000, maxLines: 100, headShare: 0.3 })}`,
      );
    if (!result.stdout && !result.stderr) parts.push('(no output)');
    return { ok: true, output: parts.join('\n') };
  },
});
