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

/** Resource limits of one sandbox; every field has a hardened default from configuration. */
export interface SandboxLimits {
  /** Memory (and memory + swap) limit. @defaultValue config `DROIDWORKS_SANDBOX_MEMORY_MB` */
  readonly memoryMb?: number;
  /** CPU share, fractional allowed. @defaultValue config `DROIDWORKS_SANDBOX_CPUS` */
  readonly cpus?: number;
  /** Most processes alive at once in the container. @defaultValue config `DROIDWORKS_SANDBOX_PIDS` */
  readonly pids?: number;
  /** Default per-command timeout. @defaultValue config `DROIDWORKS_COMMAND_TIMEOUT_SEC` × 1000 */
  readonly commandTimeoutMs?: number;
  /** Bytes kept per stream (half head, half tail). @defaultValue 262144 */
  readonly maxOutputBytes?: number;
  /** Size of the `/tmp` and home tmpfs. @defaultValue 512 */
  readonly tmpfsMb?: number;
}

/** A service container (database, cache…) started beside the run's container (`.droidworks.yml` `services:`). */
export interface ServiceSpec {
  /** Host name the run's commands reach it by. */
  readonly name: string;
  readonly image: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides the image's command. */
  readonly command?: readonly string[];
  /** Shell command run inside the service container; exit 0 means ready. */
  readonly health?: string;
  /** How long to wait for `health`. @defaultValue 60000 */
  readonly healthTimeoutMs?: number;
}

export interface AcquireOptions {
  /** Labels every container and network, and tells the start-up sweep whose they are. */
  readonly runId: string;
  /** @defaultValue config `DROIDWORKS_RUNNER_IMAGE` */
  readonly image?: string;
  /**
   * Host directory bind-mounted at `/workspace`. Omit it to let the provider pick one (from a
   * warm-pool slot when one is idle): then prepare the workspace into {@link Sandbox.workspaceDir}.
   */
  readonly workspaceDir?: string;
  readonly services?: readonly ServiceSpec[];
  /**
   * Hosts the run may reach (installs): `host` (ports 80 and 443), `*.domain`, `host:port`. A
   * non-empty list starts an egress proxy on the run's internal network, the only way out; the run
   * gets `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`. The `process` backend has no isolation to narrow.
   */
  readonly networkAllowlist?: readonly string[];
  readonly limits?: SandboxLimits;
  readonly signal?: AbortSignal;
}

/** One run's isolated place to run commands. `release()` is idempotent and never throws for "already gone". */
export interface Sandbox extends CommandExecutor {
  readonly runId: string;
  /** Host directory mounted at `/workspace` (prepare the worktree here when the provider chose it). */
  readonly workspaceDir: string;
  /** Numeric user commands run as; the workspace must be writable by it (see `prepareWorkspace` `owner`). */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** `docker` or `process`. */
  readonly backend: 'docker' | 'process';
  /** Container id (docker backend). */
  readonly containerId: string | undefined;
  release(): Promise<void>;
}

/** The port the engine and steps depend on: one sandbox per run. */
export interface SandboxProvider {
  acquire(options: AcquireOptions): Promise<Sandbox>;
  /** Removes containers, sidecars and networks labelled as ours whose run `isLive` denies. */
  sweep(isLive: (runId: string) => boolean | Promise<boolean>, signal?: AbortSignal): Promise<SweepReport>;
  /** Stops refilling the warm pool and removes idle pool containers. */
  close(): Promise<void>;
}

export interface SweepReport {
  readonly containers: readonly string[];
  readonly networks: readonly string[];
}
