/**
 * The provider-neutral model port: send messages with tools, get text, tool calls and token usage
 * back. `openai-provider.ts` and `anthropic-provider.ts` translate it to each wire format; nothing
 * outside `src/models/` sees an SDK type.
 */

export type ProviderName = 'openai' | 'anthropic';

/** A tool call the model asked for. */
export interface ToolCall {
  /** Provider-issued id; echoed back in the matching {@link ToolResult}. */
  readonly id: string;
  readonly name: string;
  /**
   * The arguments as the model sent them: OpenAI sends a JSON string (possibly malformed), Anthropic
   * a parsed object. Validate before use.
   */
  readonly arguments: string | Readonly<Record<string, unknown>>;
}

/** The outcome of one tool call, sent back to the model. */
export interface ToolResult {
  readonly callId: string;
  readonly content: string;
  /** The tool failed or its arguments were invalid. @defaultValue false */
  readonly isError?: boolean;
}

export type ModelMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly text: string; readonly toolCalls: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly results: readonly ToolResult[] };

/** A tool offered to the model. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema (an object schema) of the tool's input. */
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

export interface ModelRequest {
  /** Trusted instructions only; untrusted text (issues, files, tool output) goes in messages, fenced. */
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  readonly tools?: readonly ToolSpec[];
  /** Upper bound on generated tokens. @defaultValue 8192 */
  readonly maxOutputTokens?: number;
  readonly temperature?: number;
}

export interface TokenUsage {
  /** Input tokens billed at the full input price (cache reads excluded; Anthropic cache writes included). */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Input tokens served from the provider's prompt cache. */
  readonly cachedInputTokens: number;
}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'other';

export interface ModelResponse {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly stopReason: StopReason;
  readonly usage: TokenUsage;
}

export interface CompleteOptions {
  /** Aborts the HTTP request. */
  readonly signal?: AbortSignal;
  /** Per-attempt request timeout. @defaultValue 300000 (5 minutes) */
  readonly timeoutMs?: number;
}

/**
 * One model provider. Implementations make exactly one HTTP attempt per call (no SDK retries,
 * non-streaming) and throw {@link ModelError} on failure; retries and fallback live in the router.
 */
export interface ModelProvider {
  readonly name: ProviderName;
  complete(model: string, request: ModelRequest, options?: CompleteOptions): Promise<ModelResponse>;
}

/** Why a model call failed; decides retry and fallback, never the message text. */
export type ModelErrorKind =
  | 'rate_limit'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'auth'
  | 'bad_request'
  | 'aborted'
  | 'no_provider'
  | 'other';

const OUTAGE_KINDS: ReadonlySet<ModelErrorKind> = new Set(['rate_limit', 'server', 'timeout', 'connection']);

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    message: string,
    readonly kind: ModelErrorKind,
    readonly details: {
      readonly provider?: ProviderName;
      readonly model?: string;
      readonly status?: number;
      /** Parsed from `retry-after-ms` / `retry-after` when the provider sent one. */
      readonly retryAfterMs?: number;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }

  /** Retrying (and then falling over to another provider) may help. */
  get isOutage(): boolean {
    return OUTAGE_KINDS.has(this.kind);
  }
}

/** A model call was abandoned because the caller's signal fired. */
export function isAbortError(err: unknown): boolean {
  return err instanceof ModelError && err.kind === 'aborted';
}
