import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export interface EmbeddedRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then waits for exit). Idempotent. */
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  /** Folder for the append-only file; nothing is written to disk when unset. */
  readonly dir?: string;
  /** @defaultValue a free port on 127.0.0.1 */
  readonly port?: number;
  /** @defaultValue 10 s */
  readonly startTimeoutMs?: number;
}

/** Children still running, killed when this process exits by any path (see {@link killOnExit}). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Makes sure no embedded redis-server outlives this process: on `exit` (a normal end,
 * `process.exit`, an uncaught exception) every child still running gets SIGTERM, which lets it
 * finish its append-only file. Signals are handled by the CLI's lifecycle, which stops it first.
 */
function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGTERM');
  });
}

export class RedisServerMissingError extends Error {
  override readonly name = 'RedisServerMissingError';
  constructor() {
    super(
      'redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) or set REDIS_URL to an existing Redis 6.2+.',
    );
  }
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('could not allocate a port');
  return address.port;
}

/**
 * Starts a private `redis-server` child on 127.0.0.1: the single-machine default when `REDIS_URL`
 * is unset, and the per-run server of the test suite.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (options.dir) {
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    args.push('--appendonly', 'yes', '--dir', dir);
  } else {
    args.push('--appendonly', 'no');
  }
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  try {
    await new Promise<void>((done, fail) => {
      let out = '';
      const timer = setTimeout(
        () =>
          fail(new Error(`redis-server did not start within ${options.startTimeoutMs ?? 10_000} ms: ${out}`)),
        options.startTimeoutMs ?? 10_000,
      );
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.stdout.resume();
          done();
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited with code ${code}: ${out.slice(-2000)}`));
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(err.code === 'ENOENT' ? new RedisServerMissingError() : err);
      });
    });
  } catch (err) {
    // A server that did not come up in time must not stay behind.
    child.kill('SIGKILL');
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop() {
      stopped ??= new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
