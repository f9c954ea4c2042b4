import { spawn } from 'node:child_process';
import { redact } from '../util/redact.js';
import { GitError } from './errors.js';

export interface RunGitOptions {
  readonly cwd?: string;
  /** Extra environment (authentication, identities). Never logged. */
  readonly env?: Readonly<Record<string, string>>;
  /** Values scrubbed from error messages besides token-shaped strings. */
  readonly secrets?: readonly string[];
  readonly signal?: AbortSignal;
  /** @defaultValue 600000 */
  readonly timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `diff --quiet`). */
  readonly okExitCodes?: readonly number[];
}

export interface GitResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Configuration forced on every git command, above any repository's own: no hooks, no fsmonitor,
 * no prompts, and ownership checks off (worktrees belong to the sandbox user).
 */
const FORCED_CONFIG: ReadonlyArray<[string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['safe.directory', '*'],
  ['protocol.file.allow', 'never'],
  ['gc.auto', '0'],
];

/**
 * Runs git with an argument array (never a shell), a minimal environment (no global or system
 * config, no terminal prompt), a timeout and an AbortSignal that kill its process group.
 * Credentials arrive as `GIT_CONFIG_*` environment variables (see `authEnv`) and are redacted from
 * the thrown {@link GitError}.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitResult> {
  options.signal?.throwIfAborted();
  const extra = options.env ?? {};
  const count = Number(extra.GIT_CONFIG_COUNT ?? 0);
  const forced: Record<string, string> = {};
  FORCED_CONFIG.forEach(([k, v], i) => {
    forced[`GIT_CONFIG_KEY_${count + i}`] = k;
    forced[`GIT_CONFIG_VALUE_${count + i}`] = v;
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: '/bin/false',
    ...extra,
    ...forced,
    GIT_CONFIG_COUNT: String(count + FORCED_CONFIG.length),
  };
  const secrets = options.secrets ?? [];
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const kill = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') reject(e as Error);
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs ?? 600_000);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new GitError(
          args.map((a) => redact(a, secrets)),
          null,
          redact(e.message, secrets),
          false,
        ),
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      if (options.signal?.aborted) return reject(options.signal.reason as Error);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const exitCode = code ?? -1;
      if (exitCode === 0 || options.okExitCodes?.includes(exitCode))
        return resolve({ exitCode, stdout, stderr });
      reject(
        new GitError(
          args.map((a) => redact(a, secrets)),
          code,
          redact(stderr, secrets),
          timedOut,
        ),
      );
    });
  });
}

/** Per-command authentication: an `http.extraHeader` in the environment, never in a file or argument. */
export function authEnv(token: string): { env: Record<string, string>; secrets: string[] } {
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    env: {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    secrets: [token, basic],
  };
}
