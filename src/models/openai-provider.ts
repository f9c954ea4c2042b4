import OpenAI from 'openai';
import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import { classifySdkError } from './classify-error.js';
import { childSignal } from './retry.js';
import type { ModelProvider, ModelRequest, ModelResponse, StopReason, ToolCall } from './types.js';

export interface OpenAIProviderOptions {
  /** Optional for local OpenAI-compatible servers (vLLM, Ollama) that ignore it. */
  readonly apiKey: string | undefined;
  /** Any OpenAI-compatible endpoint, including its `/v1`. @defaultValue `https://api.openai.com/v1` */
  readonly baseUrl?: string;
  /**
   * How the output cap is sent: OpenAI's current `max_completion_tokens`, the older `max_tokens`
   * some compatible servers still want, or not at all. @defaultValue `max_completion_tokens`
   */
  readonly maxTokensParam?: 'max_completion_tokens' | 'max_tokens' | 'omit';
}

/**
 * {@link ModelProvider} over the Chat Completions API with function tools. Non-streaming: one
 * request, one JSON reply. SDK retries are off (`maxRetries: 0`); the router retries.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): ModelProvider {
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'no-key',
    baseURL: options.baseUrl ?? null,
    maxRetries: 0,
  });
  const maxTokensParam = options.maxTokensParam ?? 'max_completion_tokens';

  return {
    name: 'openai',
    async complete(model, request, callOptions = {}): Promise<ModelResponse> {
      const body: ChatCompletionCreateParamsNonStreaming = {
        model,
        messages: toOpenAIMessages(request),
        ...(request.tools?.length ? { tools: request.tools.map(toOpenAITool) } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      };
      const cap = request.maxOutputTokens ?? 8192;
      if (maxTokensParam === 'max_completion_tokens') body.max_completion_tokens = cap;
      else if (maxTokensParam === 'max_tokens') body.max_tokens = cap;
      const link = childSignal(callOptions.signal);
      try {
        const completion = await client.chat.completions.create(body, {
          signal: link.signal,
          timeout: callOptions.timeoutMs ?? 300_000,
          maxRetries: 0,
        });
        const choice = completion.choices[0];
        const toolCalls: ToolCall[] = [];
        for (const call of choice?.message.tool_calls ?? []) {
          if (call.type === 'function')
            toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
        }
        const cached = completion.usage?.prompt_tokens_details?.cached_tokens ?? 0;
        return {
          text: choice?.message.content ?? '',
          toolCalls,
          stopReason: toStopReason(choice?.finish_reason),
          usage: {
            inputTokens: Math.max(0, (completion.usage?.prompt_tokens ?? 0) - cached),
            outputTokens: completion.usage?.completion_tokens ?? 0,
            cachedInputTokens: cached,
          },
        };
      } catch (err) {
        throw classifySdkError(err, OpenAI, { provider: 'openai', model, signal: callOptions.signal });
      } finally {
        link.dispose();
      }
    },
  };
}

function toOpenAIMessages(request: ModelRequest): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [{ role: 'system', content: request.system }];
  for (const m of request.messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant')
      out.push({
        role: 'assistant',
        content: m.text || null,
        ...(m.toolCalls.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: {
                  name: c.name,
                  arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
                },
              })),
            }
          : {}),
      });
    else for (const r of m.results) out.push({ role: 'tool', tool_call_id: r.callId, content: r.content });
  }
  return out;
}

function toOpenAITool(tool: {
  name: string;
  description: string;
  inputSchema: Readonly<Record<string, unknown>>;
}): ChatCompletionFunctionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: { ...tool.inputSchema } },
  };
}

function toStopReason(reason: string | null | undefined): StopReason {
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_use';
  if (reason === 'stop') return 'end_turn';
  if (reason === 'length') return 'max_tokens';
  return 'other';
}
