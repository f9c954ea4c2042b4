/**
 * Sandbox benchmark: acquire-to-first-command latency for a plain `docker run` of the runner image
 * (baseline), a cold sandbox (create + start + exec) and a warm-pool sandbox (exec in a started
 * container). Targets: warm p50 < 50 ms and ≥ 10× faster than `docker run`. Prints, never asserts.
 *
 * Run: npx tsx bench/sandbox.ts
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/load-config.js';
import { createDockerSandboxProvider } from '../src/sandbox/docker-sandbox-provider.js';
import type { Sandbox } from '../src/sandbox/types.js';
import { createLogger } from '../src/util/logger.js';

const N = Number(process.env.BENCH_N ?? 25);
const run = promisify(execFile);
const config = loadConfig({});
const image = config.sandbox.image;
const workRoot = mkdtempSync(join(tmpdir(), 'dw-bench-sandbox-'));
const logger = createLogger({ level: 'warn' });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

async function sample(label: string, once: () => Promise<number>): Promise<number[]> {
  await once(); // warm-up, not counted
  const xs: number[] = [];
  for (let i = 0; i < N; i++) xs.push(await once());
  process.stderr.write(`${label}: ${N} samples\n`);
  return xs;
}

async function main() {
  const baseline = await sample('docker run', async () => {
    const t = performance.now();
    await run('docker', ['run', '--rm', '--network', 'none', image, 'true']);
    return performance.now() - t;
  });

  const cold = createDockerSandboxProvider({ ...config.sandbox, warmPool: 0 }, { logger, workRoot });
  let i = 0;
  const coldXs = await sample('cold sandbox', async () => {
    const t = performance.now();
    const sb: Sandbox = await cold.acquire({ runId: `bench-cold-${i++}` });
    await sb.exec('true');
    const ms = performance.now() - t;
    await sb.release();
    return ms;
  });

  const warm = createDockerSandboxProvider({ ...config.sandbox, warmPool: 2 }, { logger, workRoot });
  const warmXs = await sample('warm sandbox', async () => {
    await warm.warmed();
    const t = performance.now();
    const sb = await warm.acquire({ runId: `bench-warm-${i++}` });
    await sb.exec('true');
    const ms = performance.now() - t;
    await sb.release();
    return ms;
  });
  await warm.close();
  await cold.close();
  rmSync(workRoot, { recursive: true, force: true });

  const b50 = pct(baseline, 50);
  const rows = [
    ['docker run (baseline)', baseline],
    ['cold sandbox', coldXs],
    ['warm-pool sandbox', warmXs],
  ] as const;
  console.log(`\nacquire → first command done, ${N} samples each (image ${image})\n`);
  console.log('| variant               |  p50 ms |  p99 ms | baseline p50 / p50 |');
  console.log('|-----------------------|--------:|--------:|-------------------:|');
  for (const [name, xs] of rows)
    console.log(
      `| ${name.padEnd(21)} | ${pct(xs, 50).toFixed(1).padStart(7)} | ${pct(xs, 99).toFixed(1).padStart(7)} | ${(b50 / pct(xs, 50)).toFixed(1).padStart(17)}× |`,
    );
  const w50 = pct(warmXs, 50);
  console.log(
    `\ntarget: warm p50 < 50 ms (${w50 < 50 ? 'met' : 'missed'}), ≥ 10× docker run (${b50 / w50 >= 10 ? 'met' : 'missed'})`,
  );
}

await main();
