import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '../util/logger.js';
import { demuxStream } from './demux-stream.js';
import { WORKSPACE_MOUNT } from './container-spec.js';
import { OutputCap } from './output-cap.js';
import type { CommandResult, ExecOptions } from './types.js';

/**
 * Runs inside the container: `timeout` puts itself in a new process group and, when the time is up,
 * SIGKILLs the command and that whole group. When the command ends, whatever it left running in
 * its group is killed too (like a terminal hang-up; `setsid` leaves a daemon running). `$1` is the
 * exec id, also kept in `DROIDWORKS_EXEC` so the host can find escaped descendants. Only builtins
 * run after the command, so a pids limit exhausted by it cannot stop the clean-up. Expects `$t`
 * (seconds) and `$cmd`.
 */
const RUN_AND_REAP = `timeout -s KILL "$t" bash -lc "$cmd" </dev/null &
pg=$!
echo "$pg" > "/tmp/.droidworks-exec-$1" 2>/dev/null
wait "$pg"; rc=$?
kill -KILL -- "-$pg" 2>/dev/null
exit "$rc"`;

const WRAPPER = `t=$2; cmd=$3
${RUN_AND_REAP}`;

/**
 * A primed exec: started ahead of its command, it waits on stdin for a header line `<seconds>
 * <cwd bytes> <command bytes> [<NAME=value bytes>…]` followed by those fields, read by byte count
 * (so no field needs escaping and nothing forks), acknowledges them with one byte (0x06) on stdout,
 * then behaves as `WRAPPER`. Without the acknowledgement the host knows the command never started.
 * EOF instead of a header (the primed exec was discarded) exits at once.
 */
const PRIMED = `IFS=' ' read -r t dl cl els || exit 125
export LC_ALL=C
IFS= read -r -N "$dl" d && IFS= read -r -N "$cl" cmd || exit 125
kvs=()
for n in $els; do IFS= read -r -N "$n" kv || exit 125; kvs+=("$kv"); done
unset LC_ALL
printf '\\006'
cd -- "$d" || exit 126
for kv in "\${kvs[@]}"; do export "$kv"; done
${RUN_AND_REAP}`;

/**
 * Host-side kill (abort, or the backstop timer): every process of this exec, found by process
 * group and by the `DROIDWORKS_EXEC` marker in its environment, without forking per process
 * (a fork bomb may hold every pid).
 */
const KILLER = `
pg=$(cat "/tmp/.droidworks-exec-$1" 2>/dev/null) && kill -KILL -- "-$pg" 2>/dev/null
for d in /proc/[0-9]*; do
  while IFS= read -r -d '' e; do
    if [ "$e" = "DROIDWORKS_EXEC=$1" ]; then kill -KILL "\${d#/proc/}" 2>/dev/null; break; fi
  done < "$d/environ" 2>/dev/null
done
rm -f "/tmp/.droidworks-exec-$1"
exit 0`;

/** The primed shell's acknowledgement of its command line. */
const ACK = 0x06;

const OOM_PROBE =
  'cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null || cat /sys/fs/cgroup/memory.events 2>/dev/null';

export interface DockerExecContext {
  readonly container: Docker.Container;
  readonly user: string;
  readonly defaultTimeoutMs: number;
  readonly maxOutputBytes: number;
  readonly log: Logger;
  /** Shared per container: OOM kills seen so far, to tell a new one from an old one. */
  readonly oom: { kills: number };
}

/**
 * An exec started ahead of its command (see `PRIMED`): running the command then costs writing one
 * line instead of Docker's exec start, which dominates a short command's latency.
 */
export interface PrimedExec {
  readonly execId: string;
  readonly exec: Docker.Exec;
  readonly stream: Duplex;
}

/** Starts an exec that waits for its command. Discard an unused one with `discardPrimed`. */
export async function primeExec(ctx: DockerExecContext, signal?: AbortSignal): Promise<PrimedExec> {
  const execId = randomUUID();
  const exec = await ctx.container.exec({
    Cmd: ['/bin/bash', '-c', PRIMED, 'droidworks-exec', execId],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    User: ctx.user,
    WorkingDir: WORKSPACE_MOUNT,
    Env: [`DROIDWORKS_EXEC=${execId}`],
    abortSignal: signal,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, abortSignal: signal })) as Duplex;
  // Errors surface when the stream is used; a discarded one must not crash the process.
  stream.on('error', () => undefined);
  return { execId, exec, stream };
}

/** Ends an unused primed exec: its shell reads EOF and exits. */
export function discardPrimed(primed: PrimedExec | undefined): void {
  primed?.stream.destroy();
}

/**
 * Runs one command in a running container with the sandbox's timeout, kill and output-cap rules,
 * through `primed` when it is given and still waiting, otherwise through a new exec.
 */
export async function dockerExec(
  ctx: DockerExecContext,
  command: string,
  options: ExecOptions = {},
  primed?: PrimedExec,
): Promise<CommandResult> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const timeoutMs = Math.max(1, options.timeoutMs ?? ctx.defaultTimeoutMs);
  const started = performance.now();
  const seconds = (timeoutMs / 1000).toFixed(3);
  const cwd = posix.resolve(WORKSPACE_MOUNT, options.cwd ?? '.');
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const usable = primed !== undefined && stillWaiting(primed);
  if (primed && !usable) discardPrimed(primed);
  let execId: string;
  let exec: Docker.Exec;
  let stream: Readable;
  if (primed && usable) {
    ({ execId, exec, stream } = primed);
    const fields = [cwd, command, ...env].map((v) => Buffer.from(v));
    const header = [seconds, ...fields.map((f) => f.length)].join(' ') + '\n';
    primed.stream.write(Buffer.concat([Buffer.from(header), ...fields]));
  } else {
    execId = randomUUID();
    exec = await ctx.container.exec({
      Cmd: ['/bin/bash', '-c', WRAPPER, 'droidworks-exec', execId, seconds, command],
      AttachStdout: true,
      AttachStderr: true,
      User: ctx.user,
      WorkingDir: cwd,
      Env: [...env, `DROIDWORKS_EXEC=${execId}`],
      abortSignal: signal,
    });
    stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal })) as Readable;
  }
  const stdout = new OutputCap(ctx.maxOutputBytes);
  const stderr = new OutputCap(ctx.maxOutputBytes);

  let timedOut = false;
  let killing: Promise<void> | undefined;
  const killTree = () => {
    killing ??= killExec(ctx, execId).catch((err: unknown) => {
      ctx.log.error({ err, execId }, 'sandbox could not kill a command; the container removal will');
    });
  };
  // Backstop: `timeout` inside normally fires first; this covers a wrapper that could not start.
  const backstop = setTimeout(() => {
    timedOut = true;
    killTree();
  }, timeoutMs + 3_000);
  const onAbort = () => killTree();
  signal?.addEventListener('abort', onAbort, { once: true });
  let acked = !usable;
  try {
    await demuxStream(stream, (kind, chunk) => {
      if (!acked && kind === 'stdout' && chunk.length > 0) {
        acked = true;
        if (chunk[0] === ACK) chunk = chunk.subarray(1);
      }
      (kind === 'stdout' ? stdout : stderr).push(chunk);
    });
  } finally {
    clearTimeout(backstop);
    signal?.removeEventListener('abort', onAbort);
  }
  await killing;
  if (!acked) {
    // The primed shell died before it read the command (say a daemon's `kill -9 -1`): nothing ran.
    ctx.log.debug({ execId }, 'sandbox primed exec was gone; running the command in a new one');
    return dockerExec(ctx, command, options);
  }
  const info = await exec.inspect();
  const durationMs = performance.now() - started;
  signal?.throwIfAborted();
  const exitCode = info.ExitCode ?? -1;
  if (exitCode === 137 && durationMs >= timeoutMs) timedOut = true;
  // `timeout` kills its process group; descendants that left it (setsid) are found by marker.
  if (timedOut && !killing) {
    killTree();
    await killing;
  }
  const oomKilled = exitCode === 137 && !timedOut && (await sawNewOomKill(ctx));
  return {
    exitCode,
    stdout: stdout.text(),
    stderr: stderr.text(),
    durationMs,
    timedOut,
    oomKilled,
    truncatedBytes: stdout.droppedBytes + stderr.droppedBytes,
  };
}

/** The primed shell's stream is still open (its death may not have reached it yet: see the ack). */
function stillWaiting(primed: PrimedExec): boolean {
  return !primed.stream.destroyed && !primed.stream.readableEnded && primed.stream.writable;
}

async function killExec(ctx: DockerExecContext, execId: string): Promise<void> {
  const exec = await ctx.container.exec({
    Cmd: ['/bin/bash', '-c', KILLER, 'droidworks-kill', execId],
    AttachStdout: true,
    AttachStderr: true,
    User: ctx.user,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Readable;
  await demuxStream(stream, () => undefined);
}

/**
 * Evidence that the kernel's OOM killer acted: the cgroup's `oom_kill` counter (v1
 * `memory.oom_control`, v2 `memory.events`) went up since the last look, or Docker flagged the
 * container.
 */
async function sawNewOomKill(ctx: DockerExecContext): Promise<boolean> {
  const exec = await ctx.container.exec({
    Cmd: ['/bin/sh', '-c', OOM_PROBE],
    AttachStdout: true,
    AttachStderr: true,
    User: ctx.user,
  });
  const out = new OutputCap(4096);
  await demuxStream((await exec.start({ hijack: true, stdin: false })) as Readable, (_k, c) => out.push(c));
  const match = /^oom_kill (\d+)$/m.exec(out.text());
  if (match) {
    const kills = Number(match[1]);
    const fresh = kills > ctx.oom.kills;
    ctx.oom.kills = kills;
    if (fresh) return true;
  }
  const state = await ctx.container.inspect();
  return state.State.OOMKilled === true;
}
