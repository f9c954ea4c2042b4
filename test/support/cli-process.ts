import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a user's shell would give: PATH and HOME only, plus `env`. */
export function bareEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

/** Starts the real CLI (`tsx src/cli/main.ts`, or `bin` when given) in `cwd`. */
export function spawnCli(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; bin?: string },
): { child: ChildProcess; output: () => { stdout: string; stderr: string }; done: Promise<CliResult> } {
  const command = options.bin ? [options.bin] : [TSX, join(ROOT, 'src', 'cli', 'main.ts')];
  const child = spawn(process.execPath, [...command, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((done) =>
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return { child, output: () => ({ stdout, stderr }), done };
}

/** Runs the CLI to its end. */
export function runCli(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; bin?: string },
): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/**
 * redis-server processes whose working directory is under `dir` (an embedded Redis changes into
 * `<DROIDWORKS_DATA_DIR>/redis`, so this finds the ones a CLI started from `dir`).
 */
export function redisServersUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'redis-server') continue;
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(dir)) found.push(Number(entry));
    } catch (err) {
      // The process ended while we looked, or belongs to another user: not one of ours.
      if (!['ENOENT', 'EACCES', 'ESRCH'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  return found;
}
