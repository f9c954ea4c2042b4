import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeReply,
  startFakeModelServer,
  type FakeModelServer,
} from '../../test/support/fake-model-server.js';
import type { ModelRef, ModelRole } from '../config/load-config.js';
import type { RunEvent } from '../ledger/index.js';
import { costOf, loadPriceTable } from './pricing.js';
import { createModelRouter, type ModelsConfig } from './router.js';
import { ModelError, type ModelRequest } from './types.js';

let server: FakeModelServer;
beforeEach(async () => {
  server = await startFakeModelServer();
});
afterEach(async () => {
  await server.close();
});

function modelsConfig(coder: ModelRef[], keys: { openai?: boolean; anthropic?: boolean } = {}): ModelsConfig {
  const roles = Object.fromEntries(
    (['planner', 'coder', 'reviewer', 'summarizer'] as ModelRole[]).map((r) => [r, coder]),
  ) as Record<ModelRole, ModelRef[]>;
  return {
    openai: { apiKey: keys.openai === false ? undefined : 'sk-test-openai', baseUrl: server.openaiBaseUrl },
    anthropic: {
      apiKey: keys.anthropic === false ? undefined : 'sk-ant-test',
      baseUrl: server.anthropicBaseUrl,
    },
    roles,
    pricesFile: undefined,
  };
}

const request: ModelRequest = {
  system: 'You are a test.',
  messages: [{ role: 'user', content: 'hello' }],
  tools: [
    {
      name: 'bash',
      description: 'run',
      inputSchema: { type: 'object', properties: { command: { type: 'string' } } },
    },
    { name: 'finish', description: 'done', inputSchema: { type: 'object', properties: {} } },
  ],
};
const fast = { baseDelayMs: 5, maxDelayMs: 20, random: () => 0.5 };

describe('providers through the router', () => {
  it('speaks OpenAI chat completions with tools, in both directions', async () => {
    const router = createModelRouter(modelsConfig([{ provider: 'openai', model: 'gpt-5.1' }]));
    server.enqueue(
      fakeReply.tool(
        'bash',
        { command: 'ls' },
        { id: 'call_a', usage: { inputTokens: 1000, outputTokens: 50, cachedInputTokens: 200 } },
      ),
    );
    const res = await router.complete('coder', {
      ...request,
      messages: [
        { role: 'user', content: 'hello' },
        {
          role: 'assistant',
          text: 'looking',
          toolCalls: [{ id: 'c0', name: 'bash', arguments: { command: 'pwd' } }],
        },
        { role: 'tool', results: [{ callId: 'c0', content: '/repo' }] },
      ],
    });
    expect(res.toolCalls).toEqual([{ id: 'call_a', name: 'bash', arguments: '{"command":"ls"}' }]);
    expect(res.stopReason).toBe('tool_use');
    expect(res.usage).toEqual({ inputTokens: 1000, outputTokens: 50, cachedInputTokens: 200 });
    expect(res.costUsd).toBeCloseTo((1000 * 1.25 + 50 * 10 + 200 * 0.125) / 1e6, 12);
    const sent = server.requests[0]!;
    expect(sent.format).toBe('openai');
    expect(sent.model).toBe('gpt-5.1');
    expect(sent.toolNames).toEqual(['bash', 'finish']);
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'You are a test.' },
      { role: 'user', content: 'hello' },
      {
        role: 'assistant',
        content: 'looking',
        tool_calls: [
          { id: 'c0', type: 'function', function: { name: 'bash', arguments: '{"command":"pwd"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c0', content: '/repo' },
    ]);
  });

  it('speaks Anthropic messages with tool_use and caches the stable prefix', async () => {
    const router = createModelRouter(modelsConfig([{ provider: 'anthropic', model: 'claude-sonnet-4-5' }]));
    server.enqueue(
      fakeReply.tool(
        'finish',
        { summary: 'ok' },
        { text: 'done', usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 1000 } },
      ),
    );
    const res = await router.complete('coder', {
      ...request,
      messages: [
        { role: 'user', content: 'hello' },
        {
          role: 'assistant',
          text: '',
          toolCalls: [{ id: 't0', name: 'bash', arguments: '{"command":"pwd"}' }],
        },
        { role: 'tool', results: [{ callId: 't0', content: 'boom', isError: true }] },
        { role: 'user', content: 'keep going' },
      ],
    });
    expect(res.text).toBe('done');
    expect(res.toolCalls).toEqual([{ id: expect.any(String), name: 'finish', arguments: { summary: 'ok' } }]);
    expect(res.usage.cachedInputTokens).toBe(1000);
    expect(res.costUsd).toBeCloseTo((10 * 3 + 5 * 15 + 1000 * 0.3) / 1e6, 12);
    const body = server.requests[0]!.body as Record<string, unknown>;
    const auth = server.requests[0]!.headers;
    expect(auth['x-api-key'] ?? auth.authorization).toMatch(/sk-ant-test$/);
    expect(body.system).toEqual([
      { type: 'text', text: 'You are a test.', cache_control: { type: 'ephemeral' } },
    ]);
    const tools = body.tools as Array<Record<string, unknown>>;
    expect(tools[0]!.cache_control).toBeUndefined();
    expect(tools[1]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hello' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 't0', name: 'bash', input: { command: 'pwd' } }],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't0', content: 'boom', is_error: true },
          { type: 'text', text: 'keep going' },
        ],
      },
    ]);
  });
});

describe('retries and fallback', () => {
  it('falls over to the next entry when a provider keeps returning 500, and says so', async () => {
    const events: RunEvent[] = [];
    const router = createModelRouter(
      modelsConfig([
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        { provider: 'openai', model: 'gpt-5.1' },
      ]),
      { retry: { ...fast, maxRetries: 2 } },
    );
    server.setHandler((req) =>
      req.format === 'anthropic' ? fakeReply.error(500) : fakeReply.text('from openai'),
    );
    const res = await router.complete('coder', request, { sink: { emit: async (e) => void events.push(e) } });
    expect(res.text).toBe('from openai');
    expect(res.provider).toBe('openai');
    expect(res.attempts).toBe(4);
    expect(server.requests.map((r) => r.format)).toEqual(['anthropic', 'anthropic', 'anthropic', 'openai']);
    expect(events.map((e) => e.type)).toEqual(['model.retry', 'model.retry', 'model.fallback']);
    expect(events[2]).toMatchObject({
      from: 'anthropic:claude-sonnet-4-5',
      to: 'openai:gpt-5.1',
      errorKind: 'server',
    });
  });

  it('waits for retry-after on 429, then succeeds on the same provider', async () => {
    const events: RunEvent[] = [];
    const router = createModelRouter(modelsConfig([{ provider: 'openai', model: 'gpt-5.1' }]), {
      retry: fast,
    });
    server.enqueue(fakeReply.error(429, { headers: { 'retry-after': '1' } }), fakeReply.text('ok'));
    const started = Date.now();
    const res = await router.complete('coder', request, { sink: { emit: async (e) => void events.push(e) } });
    expect(res.text).toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(events).toEqual([
      expect.objectContaining({ type: 'model.retry', delayMs: 1000, errorKind: 'rate_limit' }),
    ]);
  });

  it('does not retry or fall over on a bad request', async () => {
    const router = createModelRouter(
      modelsConfig([
        { provider: 'openai', model: 'gpt-5.1' },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ]),
      { retry: fast },
    );
    server.enqueue(fakeReply.error(400, { message: 'bad tool schema' }));
    await expect(router.complete('coder', request)).rejects.toMatchObject({
      kind: 'bad_request',
      details: { status: 400 },
    });
    expect(server.requests).toHaveLength(1);
  });

  it('throws a clear error when every entry of a role is an outage', async () => {
    const router = createModelRouter(modelsConfig([{ provider: 'openai', model: 'gpt-5.1' }]), {
      retry: { ...fast, maxRetries: 1 },
    });
    server.setHandler(() => fakeReply.error(503));
    await expect(router.complete('coder', request)).rejects.toThrow(/every model for role "coder" failed/);
    expect(server.requests).toHaveLength(2);
  });

  it('skips providers without a key and names the variable when none remain', async () => {
    const only = createModelRouter(
      modelsConfig(
        [
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
          { provider: 'openai', model: 'gpt-5.1' },
        ],
        { anthropic: false },
      ),
    );
    server.enqueue(fakeReply.text('openai answered'));
    expect((await only.complete('coder', request)).provider).toBe('openai');

    const none = createModelRouter({
      ...modelsConfig([{ provider: 'anthropic', model: 'claude-sonnet-4-5' }], { anthropic: false }),
    });
    const err = await none.complete('coder', request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).kind).toBe('no_provider');
    expect((err as ModelError).message).toMatch(/ANTHROPIC_API_KEY/);
  });

  it('times out a hung request and retries it', async () => {
    const router = createModelRouter(modelsConfig([{ provider: 'anthropic', model: 'claude-haiku-4-5' }]), {
      retry: fast,
    });
    server.enqueue(fakeReply.hang(), fakeReply.text('second try'));
    const res = await router.complete('coder', request, { timeoutMs: 200 });
    expect(res.text).toBe('second try');
    expect(server.requests[0]!.aborted).toBe(true);
  });

  it('cancels mid-request: the server sees the request aborted', async () => {
    const router = createModelRouter(modelsConfig([{ provider: 'openai', model: 'gpt-5.1' }]), {
      retry: fast,
    });
    server.enqueue(fakeReply.hang());
    const controller = new AbortController();
    const pending = router.complete('coder', request, { signal: controller.signal });
    await server.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    await expect.poll(() => server.requests[0]!.aborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });
});

describe('pricing', () => {
  it('prices known models, matches dated snapshots, and returns null for unknown ones', () => {
    const table = loadPriceTable();
    const usage = { inputTokens: 2_000_000, outputTokens: 1_000_000, cachedInputTokens: 1_000_000 };
    expect(costOf(table, 'claude-sonnet-4-5', usage)).toBeCloseTo(2 * 3 + 15 + 0.3, 10);
    expect(costOf(table, 'claude-sonnet-4-5-20250929', usage)).toBeCloseTo(21.3, 10);
    expect(costOf(table, 'gpt-5-mini', usage)).toBeCloseTo(0.5 + 2 + 0.025, 10);
    expect(costOf(table, 'llama-3-local', usage)).toBeNull();
  });

  it('takes overrides from a price file and explains a malformed one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-prices-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        models: { 'llama-3-local': { input: 0, output: 0 }, 'gpt-5.1': { input: 1, output: 1 } },
      }),
    );
    const table = loadPriceTable(good);
    expect(costOf(table, 'llama-3-local', { inputTokens: 5, outputTokens: 5, cachedInputTokens: 5 })).toBe(0);
    expect(costOf(table, 'gpt-5.1', { inputTokens: 1e6, outputTokens: 0, cachedInputTokens: 1e6 })).toBe(2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ models: { x: { input: 'cheap' } } }));
    expect(() => loadPriceTable(bad)).toThrow(/bad\.json.*models\.x\.input/);
  });
});
