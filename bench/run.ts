/**
 * `npm run bench`: runs every benchmark one after the other, each in a child process of its own,
 * streaming its output. `npm run bench -- webhooks agent` runs only the named ones. Exits non-zero
 * only when a benchmark crashes (benchmarks print their targets, they never assert).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** In running order. Helpers (webhooks-target) and this file are not benchmarks. */
const BENCHMARKS = [
  'agent',
  'webhooks',
  'webhooks-lane',
  'faults',
  'sandbox',
  'workspace',
  'pipeline',
  'deploy',
  'schedules',
  'dashboard',
] as const;

const benchDir = dirname(fileURLToPath(import.meta.url));
const requested = process.argv.slice(2).filter((a) => a !== '--');
const unknown = requested.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((name) => requested.length === 0 || requested.includes(name));

let current: ReturnType<typeof spawn> | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    // The child has its own clean-up (servers, redis-server); let it run, then leave.
    if (current && current.exitCode === null) {
      current.kill(signal);
      current.once('exit', () => process.exit(130));
    } else process.exit(130);
  });

function runOne(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, `${name}.ts`)], {
      cwd: dirname(benchDir),
      stdio: 'inherit',
    });
    current = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const results: Array<{ name: string; status: string; seconds: number }> = [];
let crashed = false;
for (const name of selected) {
  if (!existsSync(join(benchDir, `${name}.ts`))) {
    results.push({ name, status: 'not written yet, skipped', seconds: 0 });
    continue;
  }
  console.log(`\n=== bench/${name}.ts ===`);
  const started = performance.now();
  const { code, signal } = await runOne(name);
  const seconds = (performance.now() - started) / 1000;
  const ok = code === 0;
  if (!ok) crashed = true;
  results.push({ name, status: ok ? 'ok' : `crashed (${signal ?? `exit ${code}`})`, seconds });
}

console.log('\n=== summary ===');
for (const r of results)
  console.log(`${r.name.padEnd(10)} ${r.status}${r.seconds > 0 ? ` in ${r.seconds.toFixed(1)} s` : ''}`);
process.exit(crashed ? 1 : 0);
