/**
 * A loopback model server speaking both wire formats the product uses, for tests, the e2e pipeline
 * and `droidworks demo`:
 *
 * - OpenAI Chat Completions: `POST /v1/chat/completions` (point the SDK at {@link FakeModelServer.openaiBaseUrl})
 * - Anthropic Messages: `POST /v1/messages` (point the SDK at {@link FakeModelServer.anthropicBaseUrl})
 *
 * Each test scripts replies in a provider-neutral form ({@link FakeReply}); the server renders
 * them in the format of the request that consumes them. Replies come from a queue
 * ({@link FakeModelServer.enqueue}) or, when the queue is empty, from a handler function that sees
 * the parsed request. Every request is recorded ({@link FakeModelServer.requests}), including
 * whether the client hung up before the reply (`aborted`). Non-streaming only, as the product is.
 *
 * @example
 * const server = await startFakeModelServer();
 * server.enqueue(fakeReply.error(429, { headers: { 'retry-after': '0' } }), fakeReply.text('hi'));
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type WireFormat = 'openai' | 'anthropic';

export interface FakeToolCall {
  /** @defaultValue a generated id (`call_<n>` / `toolu_<n>`) */
  readonly id?: string;
  readonly name: string;
  /** An object, or a raw string (lets a test send malformed JSON arguments). */
  readonly arguments: string | Readonly<Record<string, unknown>>;
}

export interface FakeUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens?: number;
}

/** What the server answers with. Build them with {@link fakeReply}. */
export type FakeReply =
  | {
      readonly kind: 'message';
      readonly text?: string;
      readonly toolCalls?: readonly FakeToolCall[];
      /**
       * Reported usage. OpenAI: `prompt_tokens` = input + cached. Anthropic: `input_tokens` = input,
       * `cache_read_input_tokens` = cached. @defaultValue estimated from bytes (about 4 per token)
       */
      readonly usage?: FakeUsage;
      /** Wait this long before answering. */
      readonly delayMs?: number;
    }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly message?: string;
      readonly headers?: Readonly<Record<string, string>>;
      readonly delayMs?: number;
    }
  | { readonly kind: 'hang' };

/** Helpers to build {@link FakeReply} values. */
export const fakeReply = {
  text: (text: string, extra: { usage?: FakeUsage; delayMs?: number } = {}): FakeReply => ({
    kind: 'message',
    text,
    ...extra,
  }),
  /** One tool call (optionally with some text before it). */
  tool: (
    name: string,
    args: string | Readonly<Record<string, unknown>>,
    extra: { id?: string; text?: string; usage?: FakeUsage; delayMs?: number } = {},
  ): FakeReply => ({
    kind: 'message',
    text: extra.text,
    toolCalls: [{ id: extra.id, name, arguments: args }],
    usage: extra.usage,
    delayMs: extra.delayMs,
  }),
  tools: (calls: readonly FakeToolCall[], extra: { text?: string; usage?: FakeUsage } = {}): FakeReply => ({
    kind: 'message',
    toolCalls: calls,
    ...extra,
  }),
  error: (
    status: number,
    extra: { message?: string; headers?: Readonly<Record<string, string>>; delayMs?: number } = {},
  ): FakeReply => ({ kind: 'error', status, ...extra }),
  /** Never answer; the request stays open until the client aborts it or the server closes. */
  hang: (): FakeReply => ({ kind: 'hang' }),
};

/** One request the server received. */
export interface RecordedRequest {
  readonly format: WireFormat;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body. */
  readonly body: Record<string, unknown> & { model?: string };
  /** Size of the raw body. */
  readonly bytes: number;
  /** The model the request named. */
  readonly model: string;
  /** The tool names offered, in order. */
  readonly toolNames: readonly string[];
  /** Set when the client closed the connection before the reply was written. */
  aborted: boolean;
  /** Set once the reply was fully written. */
  answered: boolean;
}

export type FakeHandler = (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>;

export interface FakeModelServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Base URL for the OpenAI SDK (`<url>/v1`). */
  readonly openaiBaseUrl: string;
  /** Base URL for the Anthropic SDK (`<url>`; the SDK adds `/v1/messages`). */
  readonly anthropicBaseUrl: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Queue replies; they are used before the handler, first in first out. */
  enqueue(...replies: FakeReply[]): void;
  /** Replace the handler used when the queue is empty. */
  setHandler(handler: FakeHandler): void;
  /** Resolves once at least `count` requests arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeModelServerOptions {
  /** @defaultValue a handler answering 400 "no scripted reply" (so an unscripted call fails fast) */
  readonly handler?: FakeHandler;
  readonly replies?: readonly FakeReply[];
}

/** Starts the server on a free loopback port. Close it in `afterEach`/`finally`. */
export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  const queue: FakeReply[] = [...(options.replies ?? [])];
  let handler: FakeHandler =
    options.handler ??
    (() => fakeReply.error(400, { message: 'fake model server: no scripted reply left for this request' }));
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  let ids = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake model server failed: ${String(err)}` } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const format: WireFormat | undefined =
      req.method === 'POST' && path.endsWith('/chat/completions')
        ? 'openai'
        : req.method === 'POST' && path.endsWith('/messages')
          ? 'anthropic'
          : undefined;
    if (!format) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake model server: no route ${req.method} ${path}` } }));
      return;
    }
    const body = JSON.parse(raw.toString('utf8')) as RecordedRequest['body'];
    const tools = Array.isArray(body.tools) ? (body.tools as Array<Record<string, unknown>>) : [];
    const record: RecordedRequest = {
      format,
      path,
      headers: req.headers,
      body,
      bytes: raw.length,
      model: String(body.model ?? ''),
      toolNames: tools.map((t) =>
        String(format === 'openai' ? (t.function as { name?: string } | undefined)?.name : t.name),
      ),
      aborted: false,
      answered: false,
    };
    const index = requests.push(record) - 1;
    for (const wake of waiters) wake();
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });

    const reply = queue.shift() ?? (await handler(record, index));
    if (reply.kind === 'hang') return;
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (record.aborted) return;
    if (reply.kind === 'error') {
      const message = reply.message ?? `fake error ${reply.status}`;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify(
          format === 'openai'
            ? { error: { message, type: 'fake_error', code: null } }
            : { type: 'error', error: { type: 'api_error', message } },
        ),
      );
    } else {
      const usage = reply.usage ?? {
        inputTokens: Math.ceil(raw.length / 4),
        outputTokens: Math.ceil(
          (JSON.stringify(reply.toolCalls ?? []).length + (reply.text ?? '').length) / 4,
        ),
        cachedInputTokens: 0,
      };
      const payload =
        format === 'openai'
          ? renderOpenAI(reply, usage, record.model)
          : renderAnthropic(reply, usage, record.model);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    }
    record.answered = true;
  }

  function nextId(prefix: string): string {
    ids += 1;
    return `${prefix}${ids}`;
  }

  function renderOpenAI(reply: Extract<FakeReply, { kind: 'message' }>, usage: FakeUsage, model: string) {
    const calls = reply.toolCalls ?? [];
    const cached = usage.cachedInputTokens ?? 0;
    return {
      id: nextId('chatcmpl-'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          finish_reason: calls.length ? 'tool_calls' : 'stop',
          logprobs: null,
          message: {
            role: 'assistant',
            content: reply.text ?? (calls.length ? null : ''),
            refusal: null,
            ...(calls.length
              ? {
                  tool_calls: calls.map((c) => ({
                    id: c.id ?? nextId('call_'),
                    type: 'function',
                    function: {
                      name: c.name,
                      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
                    },
                  })),
                }
              : {}),
          },
        },
      ],
      usage: {
        prompt_tokens: usage.inputTokens + cached,
        completion_tokens: usage.outputTokens,
        total_tokens: usage.inputTokens + cached + usage.outputTokens,
        prompt_tokens_details: { cached_tokens: cached },
      },
    };
  }

  function renderAnthropic(reply: Extract<FakeReply, { kind: 'message' }>, usage: FakeUsage, model: string) {
    const calls = reply.toolCalls ?? [];
    const content: unknown[] = [];
    if (reply.text) content.push({ type: 'text', text: reply.text });
    for (const c of calls) {
      let input: unknown = c.arguments;
      if (typeof c.arguments === 'string') {
        try {
          input = JSON.parse(c.arguments);
        } catch {
          input = c.arguments; // deliberately malformed: send the string as it is
        }
      }
      content.push({ type: 'tool_use', id: c.id ?? nextId('toolu_'), name: c.name, input });
    }
    return {
      id: nextId('msg_'),
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: calls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_input_tokens: usage.cachedInputTokens ?? 0,
        cache_creation_input_tokens: 0,
      },
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    setHandler: (h) => {
      handler = h;
    },
    async waitForRequests(count, timeoutMs = 5000) {
      if (requests.length >= count) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`fake model server: ${requests.length} of ${count} requests after ${timeoutMs} ms`),
          );
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
