import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { CommandExecutor, CommandResult, ExecOptions } from '../../src/sandbox/types.js';

export interface LocalExecutorOptions {
  /** @defaultValue 60000 */
  readonly timeoutMs?: number;
  /** Characters kept per stream (head and tail). @defaultValue 1000000 */
  readonly maxOutput?: number;
}

/**
 * A {@link CommandExecutor} running `bash -c <command>` as a child process in `dir`, for tests only
 * (no isolation: the real one is the Docker sandbox). Arguments go as an array; a timeout or an
 * abort kills the whole process group. Only PATH, HOME and LANG of the host environment are passed.
 */
export function createLocalExecutor(dir: string, options: LocalExecutorOptions = {}): CommandExecutor {
  const maxOutput = options.maxOutput ?? 1_000_000;
  return {
    exec(command: string, exec: ExecOptions = {}): Promise<CommandResult> {
      const started = performance.now();
      return new Promise((done, fail) => {
        const child = spawn('bash', ['-c', command], {
          cwd: resolve(dir, exec.cwd ?? '.'),
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? '/tmp',
            LANG: 'C.UTF-8',
            ...exec.env,
          },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        let dropped = 0;
        const append = (current: string, chunk: Buffer): string => {
          const next = current + chunk.toString('utf8');
          if (next.length <= maxOutput) return next;
          dropped += next.length - maxOutput;
          return next.slice(0, maxOutput / 2) + next.slice(next.length - maxOutput / 2);
        };
        child.stdout.on('data', (c: Buffer) => (stdout = append(stdout, c)));
        child.stderr.on('data', (c: Buffer) => (stderr = append(stderr, c)));
        let timedOut = false;
        const kill = () => {
          if (child.pid === undefined || child.exitCode !== null) return;
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
          }
        };
        const timer = setTimeout(
          () => {
            timedOut = true;
            kill();
          },
          exec.timeoutMs ?? options.timeoutMs ?? 60_000,
        );
        const onAbort = () => kill();
        exec.signal?.addEventListener('abort', onAbort, { once: true });
        child.once('error', (err) => {
          clearTimeout(timer);
          fail(err);
        });
        child.once('close', (code, sig) => {
          clearTimeout(timer);
          exec.signal?.removeEventListener('abort', onAbort);
          done({
            exitCode: code ?? (sig ? 128 + 9 : 1),
            stdout,
            stderr,
            durationMs: performance.now() - started,
            timedOut,
            oomKilled: false,
            truncatedBytes: dropped,
          });
        });
      });
    },
  };
}
