/**
 * Agent loop benchmark: 200-step runs against the fake model server at zero latency, through the
 * real SDKs and router, with real tools on a scratch repository.
 *
 * Reports harness overhead per step (step wall time minus model call and tool time: context
 * building, argument validation, result bounding, transcript events) and the bytes of context sent
 * at step 10 vs step 200. Targets: median overhead < 5 ms; step 200 < 4x step 10. Prints, never asserts.
 *
 * Run: npx tsx bench/agent.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent } from '../src/agent/run-agent.js';
import type { ModelRole } from '../src/config/load-config.js';
import type { RunEvent } from '../src/ledger/index.js';
import { createModelRouter } from '../src/models/router.js';
import { fakeReply, startFakeModelServer, type FakeReply } from '../test/support/fake-model-server.js';
import { createLocalExecutor } from '../test/support/local-executor.js';

const STEPS = 200;

function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-'));
  for (let d = 0; d < 6; d++) {
    mkdirSync(join(dir, `src/mod${d}`), { recursive: true });
    for (let f = 0; f < 8; f++) {
      const lines = Array.from(
        { length: 120 },
        (_, i) => `export function fn${d}_${f}_${i}(x: number): number { return x * ${i}; }`,
      );
      writeFileSync(join(dir, `src/mod${d}/file${f}.ts`), `${lines.join('\n')}\n`);
    }
  }
  writeFileSync(join(dir, 'README.md'), '# bench fixture\n');
  return dir;
}

/** A varied, realistic mix of tool calls; step STEPS finishes. */
function script(step: number): FakeReply {
  if (step >= STEPS) return fakeReply.tool('finish', { summary: 'bench done' });
  const d = step % 6;
  const f = step % 8;
  const path = `src/mod${d}/file${f}.ts`;
  switch (step % 5) {
    case 0:
      return fakeReply.tool('str_replace_based_edit_tool', { command: 'view', path });
    case 1:
      return fakeReply.tool('search', { pattern: `fn${d}_${f}_1`, path: 'src' });
    case 2:
      return fakeReply.tool('bash', { command: `wc -l ${path} && head -c 3000 ${path}` });
    case 3:
      return fakeReply.tool('str_replace_based_edit_tool', {
        command: 'create',
        path: `notes/n${step}.md`,
        file_text: `note ${step}\n`.repeat(200),
      });
    default:
      return fakeReply.tool('str_replace_based_edit_tool', {
        command: 'str_replace',
        path,
        old_str: `fn${d}_${f}_7(x: number)`,
        new_str: `fn${d}_${f}_7(x: number /* ${step} */)`,
      });
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function bench(provider: 'openai' | 'anthropic', model: string) {
  const server = await startFakeModelServer();
  const repo = makeRepo();
  try {
    server.setHandler((_req, index) => script(index + 1));
    const roles = Object.fromEntries(
      (['planner', 'coder', 'reviewer', 'summarizer'] as ModelRole[]).map((r) => [r, [{ provider, model }]]),
    ) as Record<ModelRole, { provider: 'openai' | 'anthropic'; model: string }[]>;
    const router = createModelRouter({
      openai: { apiKey: 'bench', baseUrl: server.openaiBaseUrl },
      anthropic: { apiKey: 'bench', baseUrl: server.anthropicBaseUrl },
      roles,
      pricesFile: undefined,
    });
    const events: RunEvent[] = [];
    const result = await runAgent({
      task: { title: 'Bench task', body: 'Touch every module and keep notes.' },
      workspace: repo,
      executor: createLocalExecutor(repo),
      models: router,
      budgets: { maxSteps: STEPS, maxTokens: 1e12, maxCostUsd: 1e9 },
      sink: { emit: async (e) => void events.push(e) },
    });
    const overhead = result.timings.map((t) => t.overheadMs).sort((a, b) => a - b);
    const wire = server.requests.map((r) => r.bytes);
    return {
      provider,
      reason: result.reason,
      steps: result.steps,
      median: pct(overhead, 0.5),
      p99: pct(overhead, 0.99),
      wire10: wire[9] ?? NaN,
      wire200: wire[STEPS - 1] ?? NaN,
      req10: result.timings[9]?.requestBytes ?? NaN,
      req200: result.timings[STEPS - 1]?.requestBytes ?? NaN,
      events: events.length,
      seconds: result.durationMs / 1000,
    };
  } finally {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  }
}

const rows = [await bench('openai', 'gpt-5.1'), await bench('anthropic', 'claude-haiku-4-5')];
console.log(
  `agent loop, ${STEPS}-step runs, zero-latency fake model (targets: median overhead < 5 ms; step ${STEPS} bytes < 4x step 10)`,
);
console.table(
  rows.map((r) => ({
    provider: r.provider,
    stop: `${r.reason} @ ${r.steps}`,
    'overhead median ms': r.median.toFixed(2),
    'overhead p99 ms': r.p99.toFixed(2),
    'wire bytes step 10': r.wire10,
    [`wire bytes step ${STEPS}`]: r.wire200,
    'ratio 200/10': (r.wire200 / r.wire10).toFixed(2),
    'request JSON ratio': (r.req200 / r.req10).toFixed(2),
    'run s': r.seconds.toFixed(1),
  })),
);
for (const r of rows)
  console.log(
    `${r.provider}: median overhead ${r.median.toFixed(2)} ms (${r.median < 5 ? 'meets' : 'misses'} < 5 ms), context ratio ${(r.wire200 / r.wire10).toFixed(2)}x (${r.wire200 / r.wire10 < 4 ? 'meets' : 'misses'} < 4x)`,
  );
