import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
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
 * run after the command, so a pids limit exhausted by it cannot stop the clean-up.
 */
const WRAPPER = `timeout -s KILL "$2" bash -lc "$3" &
pg=$!
echo "$pg" > "/tmp/.droidworks-exec-$1" 2>/dev/null
wait "$pg"; rc=$?
kill -KILL -- "-$pg" 2>/dev/null
exit "$rc"`;

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

/** Runs one command in a running container with the sandbox's timeout, kill and output-cap rules. */
export async function dockerExec(
  ctx: DockerExecContext,
  command: string,
  options: ExecOptions = {},
): Promise<CommandResult> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const timeoutMs = Math.max(1, options.timeoutMs ?? ctx.defaultTimeoutMs);
  const execId = randomUUID();
  const started = performance.now();
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const exec = await ctx.container.exec({
    Cmd: ['/bin/bash', '-c', WRAPPER, 'droidworks-exec', execId, (timeoutMs / 1000).toFixed(3), command],
    AttachStdout: true,
    AttachStderr: true,
    User: ctx.user,
    WorkingDir: posix.resolve(WORKSPACE_MOUNT, options.cwd ?? '.'),
    Env: [...env, `DROIDWORKS_EXEC=${execId}`],
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Readable;
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
  try {
    await demuxStream(stream, (kind, chunk) => (kind === 'stdout' ? stdout : stderr).push(chunk));
  } finally {
    clearTimeout(backstop);
    signal?.removeEventListener('abort', onAbort);
  }
  await killing;
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
