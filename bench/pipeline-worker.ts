/**
 * The droidworks worker of `bench/pipeline.ts`, in a process of its own so its memory can be read
 * from /proc apart from the forge, the gateway and the load. Configuration comes from the
 * environment, exactly as `droidworks worker` reads it (the parent passes the stack's `env`).
 *
 * The only addition to the product's worker: the sandbox and workspace ports are wrapped to time
 * what the ledger does not split (sandbox acquire and sweep, worktree prepare, push, releases). Each
 * timing is one JSON line on stdout: `{"runId":"…","phase":"sandbox.acquire","ms":812}`.
 * SIGTERM, SIGINT or the parent going away close the worker (its runs' containers are released by
 * the runs themselves; `close` waits for active runs) and exit.
 *
 * One guard the product lacks: sweeps here only remove containers of runs this installation's
 * ledger knows. The product's start-up sweep removes every `droidworks.managed` container on the
 * Docker engine whose run is not live in *its* Redis, so a benchmark worker starting would kill
 * the sandboxes of anyone else's tests running on the same engine (see bench/README.md).
 */
import { createContext } from '../src/cli/context.js';
import { serveWorker, type RunningWorker } from '../src/cli/serve-worker.js';
import { loadConfig } from '../src/config/load-config.js';
import type { SandboxProvider } from '../src/sandbox/types.js';
import type { WorkspaceManager } from '../src/workspace/workspace-manager.js';
import { createRedisConnection } from '../src/queue/redis-connection.js';
import { createLogger } from '../src/util/logger.js';

/** One phase timing reported to the parent. */
export interface PhaseTiming {
  readonly runId: string;
  readonly phase: string;
  readonly ms: number;
}

function report(runId: string, phase: string, started: number): void {
  const line: PhaseTiming = { runId, phase, ms: Math.round(performance.now() - started) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A proxy of `target` whose methods named in `timed` report their duration under `prefix.<name>`. */
function timeMethods<T extends object>(target: T, prefix: string, runId: () => string, timed: string[]): T {
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof key !== 'string' || !timed.includes(key)) return fn.bind(t);
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await fn.apply(t, args);
        } finally {
          report(runId(), `${prefix}.${key}`, started);
        }
      };
    },
  });
}

function timedSandboxes(inner: SandboxProvider, known: (runId: string) => Promise<boolean>): SandboxProvider {
  return {
    async acquire(options) {
      const started = performance.now();
      const sandbox = await inner.acquire(options);
      report(options.runId, 'sandbox.acquire', started);
      return timeMethods(sandbox, 'sandbox', () => options.runId, ['release']);
    },
    async sweep(isLive, signal) {
      const started = performance.now();
      try {
        // Another installation's run is never ours to remove: keep what our ledger does not know.
        const keep = async (runId: string) => !(await known(runId)) || (await isLive(runId));
        return await inner.sweep(keep, signal);
      } finally {
        report('', 'sandbox.sweep', started);
      }
    },
    close: () => inner.close(),
  };
}

function timedWorkspaces(inner: WorkspaceManager): WorkspaceManager {
  return {
    async prepare(options) {
      const started = performance.now();
      const workspace = await inner.prepare(options);
      report(options.runId, 'workspace.prepare', started);
      return timeMethods(workspace, 'workspace', () => options.runId, ['commitAndPush', 'diff', 'release']);
    },
    async sweep(isLive, signal) {
      const started = performance.now();
      try {
        return await inner.sweep(isLive, signal);
      } finally {
        report('', 'workspace.sweep', started);
      }
    },
    settled: () => inner.settled(),
    close: () => inner.close(),
  };
}

const config = loadConfig(process.env, { require: ['worker'] });
const logger = createLogger({ level: 'warn', destination: process.stderr });
const redis = createRedisConnection(config.redisUrl!, { role: 'worker' });
const built = createContext(config, logger, redis);
const services = {
  ...built,
  sandboxes: timedSandboxes(
    built.sandboxes,
    async (runId) => Object.keys(await built.ledger.state(runId)).length > 0,
  ),
  workspaces: timedWorkspaces(built.workspaces),
};

const running: { worker?: RunningWorker } = {};
let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Active runs end by themselves in the benchmark; do not wait for ever if one is stuck.
  setTimeout(() => process.exit(code), 20_000).unref();
  try {
    await running.worker?.close();
    redis.disconnect();
  } catch (err) {
    logger.error({ err }, 'bench worker: error while stopping, exiting anyway');
  } finally {
    process.exit(code);
  }
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.resume();

running.worker = await serveWorker({ services, redisUrl: config.redisUrl!, redis });
process.stdout.write('worker ready\n');
