import { scriptedRoleOf, scriptedTurn } from './scripted-turns.js';
import type { ModelProvider, ModelRequest, ModelResponse } from '../models/types.js';

/**
 * A provider that plays the demo's scripted turns in-process (no network, no key), for
 * `droidworks demo` without model keys. Announced as scripted wherever it is used.
 */
export function createScriptedProvider(name: 'openai' | 'anthropic' = 'openai'): ModelProvider {
  let calls = 0;
  return {
    name,
    async complete(_model: string, request: ModelRequest): Promise<ModelResponse> {
      const done = request.messages.filter((m) => m.role === 'assistant').length;
      const turn = scriptedTurn(scriptedRoleOf(request.system), done);
      calls += 1;
      const bytes = JSON.stringify(request).length;
      return {
        text: turn.text ?? '',
        toolCalls: turn.toolCall
          ? [{ id: `scripted_${calls}`, name: turn.toolCall.name, arguments: turn.toolCall.arguments }]
          : [],
        stopReason: turn.toolCall ? 'tool_use' : 'end_turn',
        usage: { inputTokens: Math.ceil(bytes / 4), outputTokens: 40, cachedInputTokens: 0 },
      };
    },
  };
}
