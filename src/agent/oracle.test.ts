import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeReply,
  startFakeModelServer,
  type FakeModelServer,
} from '../../test/support/fake-model-server.js';
import { createLocalExecutor } from '../../test/support/local-executor.js';
import { MODEL_ROLES, type ModelRef, type ModelRole } from '../config/load-config.js';
import type { RunEvent } from '../ledger/index.js';
import { costOf, loadPriceTable } from '../models/pricing.js';
import { createModelRouter } from '../models/router.js';
import { runAgent } from './run-agent.js';

// The oracle role and `.droidworks.yml` model overrides, through the real SDKs against the fake model server.
let server: FakeModelServer;
let repo: string;

beforeEach(async () => {
  server = await startFakeModelServer();
  repo = mkdtempSync(join(tmpdir(), 'dw-oracle-'));
  writeFileSync(join(repo, 'calc.js'), 'export const add = (a, b) => a - b;\n');
  execFileSync('git', ['init', '-q'], { cwd: repo });
});
afterEach(async () => {
  await server.close();
  rmSync(repo, { recursive: true, force: true });
});

const CODER: ModelRef = { provider: 'openai', model: 'gpt-5.1' };
const ORACLE: ModelRef = { provider: 'anthropic', model: 'claude-opus-4-6' };

function router(roles: Partial<Record<ModelRole, ModelRef[]>>) {
  const all = Object.fromEntries(MODEL_ROLES.map((r) => [r, roles[r] ?? [CODER]])) as Record<
    ModelRole,
    ModelRef[]
  >;
  return createModelRouter({
    openai: { apiKey: 'sk-test-openai-key', baseUrl: server.openaiBaseUrl },
    anthropic: { apiKey: 'sk-ant-test-key', baseUrl: server.anthropicBaseUrl },
    roles: all,
    pricesFile: undefined,
  });
}

const usage = { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 0 };
const oracleUsage = { inputTokens: 3000, outputTokens: 400, cachedInputTokens: 0 };

describe('ask_oracle', () => {
  it('sends the question and named files to the oracle role, charges its tokens and cost, and holds the cap', async () => {
    const ask = { question: 'Why does add subtract?', files: ['calc.js'] };
    server.enqueue(
      fakeReply.tool('ask_oracle', ask, { usage }),
      fakeReply.text('It uses `-`; use `+`.', { usage: oracleUsage }),
      fakeReply.tool('ask_oracle', ask, { usage }),
      fakeReply.text('Still `+`.', { usage: oracleUsage }),
      fakeReply.tool('ask_oracle', ask, { usage }),
      fakeReply.tool('finish', { summary: 'done' }, { usage }),
    );
    const events: RunEvent[] = [];
    const result = await runAgent({
      task: 'fix add',
      workspace: repo,
      executor: createLocalExecutor(repo, { timeoutMs: 10_000 }),
      models: router({ coder: [CODER], oracle: [ORACLE] }),
      oracle: { maxCalls: 2 },
      sink: { emit: async (e) => void events.push(e) },
    });

    expect(result.reason).toBe('finished');
    expect(result.oracleCalls).toBe(2);
    // 4 coder calls + 2 oracle calls; the third ask was refused without a model call.
    expect(server.requests.map((r) => r.model)).toEqual([
      'gpt-5.1',
      'claude-opus-4-6',
      'gpt-5.1',
      'claude-opus-4-6',
      'gpt-5.1',
      'gpt-5.1',
    ]);
    const oracleRequest = JSON.stringify(server.requests[1]!.body);
    expect(oracleRequest).toContain('Why does add subtract?');
    expect(oracleRequest).toContain('export const add = (a, b) => a - b;');
    expect(server.requests[1]!.toolNames).toEqual([]);
    expect(JSON.stringify(server.requests[5]!.body)).toContain('oracle budget of this run is used up');
    expect(server.requests[0]!.toolNames).toContain('ask_oracle');

    expect(result.usage).toEqual({
      inputTokens: 4 * 1000 + 2 * 3000,
      outputTokens: 4 * 100 + 2 * 400,
      cachedInputTokens: 0,
    });
    const prices = loadPriceTable();
    const expected =
      4 * (costOf(prices, 'gpt-5.1', usage) as number) +
      2 * (costOf(prices, 'claude-opus-4-6', oracleUsage) as number);
    expect(result.costUsd).toBeCloseTo(expected, 12);
    expect(events.filter((e) => e.type === 'agent.model' && e.role === 'oracle')).toHaveLength(2);
  });

  it('is not offered without an oracle budget', async () => {
    server.enqueue(fakeReply.tool('finish', { summary: 'done' }));
    await runAgent({
      task: 'fix add',
      workspace: repo,
      executor: createLocalExecutor(repo, { timeoutMs: 10_000 }),
      models: router({}),
      oracle: { maxCalls: 0 },
    });
    expect(server.requests[0]!.toolNames).not.toContain('ask_oracle');
  });

  it('routes every role through the repository overrides before the server lists', async () => {
    server.enqueue(fakeReply.tool('finish', { summary: 'done' }));
    await runAgent({
      task: 'fix add',
      workspace: repo,
      executor: createLocalExecutor(repo, { timeoutMs: 10_000 }),
      models: router({ coder: [CODER] }),
      roles: { coder: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
    });
    expect(server.requests.map((r) => [r.format, r.model])).toEqual([['anthropic', 'claude-haiku-4-5']]);
  });
});
