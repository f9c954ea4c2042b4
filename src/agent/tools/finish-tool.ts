import { z } from 'zod';
import { defineTool } from './agent-tool.js';

/** `finish`: ends the run with a summary of what changed and why. */
export const finishTool = defineTool({
  name: 'finish',
  description:
    'Call when the task is done (or cannot be done). Give a short summary of what you changed and why, and how you verified it. Nothing runs after this.',
  input: z.object({
    summary: z.string().min(1).describe('What changed and why, and how it was verified.'),
  }),
  async run({ summary }) {
    return { ok: true, output: 'finished', finish: { summary } };
  },
});
