/** Result of one command run in a sandbox. Output is capped (head and tail kept). */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** The per-command timeout fired and the process tree was killed. */
  readonly timedOut: boolean;
  /** The kernel's OOM killer ended the command. */
  readonly oomKilled: boolean;
  /** Bytes dropped from the middle of stdout + stderr by the cap. */
  readonly truncatedBytes: number;
}

export interface ExecOptions {
  /** Working directory inside the sandbox, relative to the workspace root. @defaultValue the workspace root */
  readonly cwd?: string;
  /** @defaultValue the sandbox's configured per-command timeout */
  readonly timeoutMs?: number;
  /** Extra environment for this command only (never host secrets). */
  readonly env?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/**
 * Runs shell commands against a workspace. The agent's `bash` tool and the test step depend on
 * this port only; the Docker sandbox is the real implementation.
 */
export interface CommandExecutor {
  /** Runs `command` with `bash -lc` semantics inside the workspace. Never throws for a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
}
