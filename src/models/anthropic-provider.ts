import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { classifySdkError } from './classify-error.js';
import { childSignal } from './retry.js';
import type { ModelProvider, ModelRequest, ModelResponse, StopReason, ToolCall } from './types.js';

export interface AnthropicProviderOptions {
  readonly apiKey: string;
  /** @defaultValue `https://api.anthropic.com` */
  readonly baseUrl?: string;
}

/**
 * {@link ModelProvider} over the Messages API with `tool_use` / `tool_result`. The stable prefix
 * (system prompt and tool definitions) carries `cache_control: ephemeral` so repeated steps of a
 * run hit the prompt cache. Non-streaming; SDK retries are off (`maxRetries: 0`), the router retries.
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl ?? null,
    maxRetries: 0,
  });

  return {
    name: 'anthropic',
    async complete(model, request, callOptions = {}): Promise<ModelResponse> {
      const tools = request.tools?.map((t, i, all): Tool => ({
        name: t.name,
        description: t.description,
        input_schema: { ...t.inputSchema, type: 'object' },
        ...(i === all.length - 1 ? { cache_control: { type: 'ephemeral' } } : {}),
      }));
      const body: MessageCreateParamsNonStreaming = {
        model,
        max_tokens: request.maxOutputTokens ?? 8192,
        system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
        messages: toAnthropicMessages(request),
        ...(tools?.length ? { tools } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      };
      const link = childSignal(callOptions.signal);
      try {
        const message = await client.messages.create(body, {
          signal: link.signal,
          timeout: callOptions.timeoutMs ?? 300_000,
          maxRetries: 0,
        });
        let text = '';
        const toolCalls: ToolCall[] = [];
        for (const block of message.content) {
          if (block.type === 'text') text += block.text;
          else if (block.type === 'tool_use') {
            const input = block.input;
            toolCalls.push({
              id: block.id,
              name: block.name,
              arguments:
                input !== null && typeof input === 'object' && !Array.isArray(input)
                  ? (input as Record<string, unknown>)
                  : JSON.stringify(input),
            });
          }
        }
        const u = message.usage;
        return {
          text,
          toolCalls,
          stopReason: toStopReason(message.stop_reason),
          usage: {
            inputTokens: (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0),
            outputTokens: u?.output_tokens ?? 0,
            cachedInputTokens: u?.cache_read_input_tokens ?? 0,
          },
        };
      } catch (err) {
        throw classifySdkError(err, Anthropic, { provider: 'anthropic', model, signal: callOptions.signal });
      } finally {
        link.dispose();
      }
    },
  };
}

/** Maps neutral messages to alternating user/assistant turns; tool results ride in user turns. */
function toAnthropicMessages(request: ModelRequest): MessageParam[] {
  const out: MessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of request.messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content || '(empty)' }]);
    else if (m.role === 'assistant') {
      const blocks: ContentBlockParam[] = [];
      if (m.text) blocks.push({ type: 'text', text: m.text });
      for (const c of m.toolCalls)
        blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: toInput(c.arguments) });
      if (blocks.length === 0) blocks.push({ type: 'text', text: '(no reply)' });
      push('assistant', blocks);
    } else
      push(
        'user',
        m.results.map((r) => ({
          type: 'tool_result' as const,
          tool_use_id: r.callId,
          content: r.content,
          ...(r.isError ? { is_error: true } : {}),
        })),
      );
  }
  return out;
}

function toInput(args: string | Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (typeof args !== 'string') return { ...args };
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Malformed arguments (e.g. from another provider before a fallback): keep the raw text visible.
  }
  return { raw_arguments: args };
}

function toStopReason(reason: string | null | undefined): StopReason {
  if (reason === 'tool_use') return 'tool_use';
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'end_turn';
  if (reason === 'max_tokens') return 'max_tokens';
  return 'other';
}
