import { spawn } from 'node:child_process';
import { freePort } from '../../src/queue/embedded-redis.js';

/** A private `redis-server` that can be frozen (SIGSTOP) and thawed (SIGCONT), as a stalled host is. */
export interface PausableRedis {
  readonly url: string;
  readonly pid: number;
  /** Freezes the server: connections stay open, nothing is answered. */
  pause(): void;
  resume(): void;
  /** Thaws it if frozen, then SIGTERM and waits for exit. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free loopback port, nothing kept on disk. */
export async function startPausableRedis(): Promise<PausableRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (!out.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve();
    };
    child.stdout.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}: ${out}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('redis-server started without a pid');
  let stopped: Promise<void> | undefined;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    pid,
    pause: () => void (alive() && child.kill('SIGSTOP')),
    resume: () => void (alive() && child.kill('SIGCONT')),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (!alive()) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
