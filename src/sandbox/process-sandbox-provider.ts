import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../util/logger.js';
import type { SandboxSettings } from './docker-sandbox-provider.js';
import { SandboxReleasedError } from './errors.js';
import { OutputCap } from './output-cap.js';
import type { AcquireOptions, CommandResult, ExecOptions, Sandbox, SandboxProvider } from './types.js';

export interface ProcessSandboxDeps {
  readonly logger: Logger;
  readonly workRoot: string;
  readonly maxOutputBytes?: number;
  /** Host variables passed to commands. @defaultValue PATH and LANG */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Development backend (`DROIDWORKS_SANDBOX=process`): commands run on the host in the workspace,
 * as the worker's user, with timeouts and output caps but NO isolation. Every acquire logs a warning.
 */
export function createProcessSandboxProvider(
  settings: SandboxSettings,
  deps: ProcessSandboxDeps,
): SandboxProvider {
  const log = deps.logger.child({ component: 'sandbox', backend: 'process' });
  return {
    async acquire(options: AcquireOptions): Promise<Sandbox> {
      options.signal?.throwIfAborted();
      const runLog = log.child({ runId: options.runId });
      runLog.warn(
        'sandbox backend "process": commands run directly on this host with no isolation; use DROIDWORKS_SANDBOX=docker for untrusted code',
      );
      const ownDir = !options.workspaceDir;
      const workspaceDir =
        options.workspaceDir ??
        join(deps.workRoot, 'ws', `${options.runId}.${randomBytes(4).toString('hex')}`);
      await mkdir(workspaceDir, { recursive: true });
      let released: Promise<void> | undefined;
      const defaults = {
        timeoutMs: options.limits?.commandTimeoutMs ?? settings.commandTimeoutSec * 1000,
        maxOutputBytes: options.limits?.maxOutputBytes ?? deps.maxOutputBytes ?? 262_144,
        env: deps.env ?? { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
      };
      return {
        runId: options.runId,
        workspaceDir,
        user: undefined,
        backend: 'process',
        containerId: undefined,
        exec: (command, execOptions) =>
          released
            ? Promise.reject(new SandboxReleasedError(options.runId))
            : runOnHost(workspaceDir, command, execOptions ?? {}, defaults),
        release: () => {
          released ??= ownDir ? rm(workspaceDir, { recursive: true, force: true }) : Promise.resolve();
          return released;
        },
      };
    },
    sweep: () => Promise.resolve({ containers: [], networks: [] }),
    close: () => Promise.resolve(),
  };
}

function runOnHost(
  dir: string,
  command: string,
  options: ExecOptions,
  defaults: { timeoutMs: number; maxOutputBytes: number; env: Readonly<Record<string, string>> },
): Promise<CommandResult> {
  options.signal?.throwIfAborted();
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-lc', command], {
      cwd: resolve(dir, options.cwd ?? '.'),
      env: { ...defaults.env, HOME: dir, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = new OutputCap(defaults.maxOutputBytes);
    const stderr = new OutputCap(defaults.maxOutputBytes);
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    let timedOut = false;
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') fail(err);
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      if (options.signal?.aborted) return fail(options.signal.reason);
      done({
        exitCode: code ?? (sig === 'SIGKILL' ? 137 : 128),
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: performance.now() - started,
        timedOut,
        oomKilled: false,
        truncatedBytes: stdout.droppedBytes + stderr.droppedBytes,
      });
    });
  });
}
