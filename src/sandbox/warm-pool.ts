import type Docker from 'dockerode';
import type { Logger } from '../util/logger.js';
import type { PrimedExec } from './docker-exec.js';

/** An idle, started container and the host directory bind-mounted at its `/workspace`. */
export interface WarmContainer {
  readonly container: Docker.Container;
  readonly workspaceDir: string;
  /** An exec already started and waiting for the run's first command. */
  readonly primed?: PrimedExec | undefined;
}

export interface WarmPoolOptions {
  /** Idle containers kept ready. 0 disables the pool. */
  readonly size: number;
  readonly log: Logger;
  readonly create: (signal: AbortSignal) => Promise<WarmContainer>;
  readonly destroy: (entry: WarmContainer) => Promise<void>;
}

/**
 * Keeps `size` started containers idle so `acquire` skips create + start. Containers are single
 * use: `take` hands one out and refills in the background. Creation failures are logged and
 * retried with backoff; they never reach `acquire`, which then simply creates a cold container.
 */
const REFILL_DELAY_MS = 250;

export class WarmPool {
  private readonly idle: WarmContainer[] = [];
  private creating = 0;
  private closed = false;
  private failures = 0;
  private refillTimer: NodeJS.Timeout | undefined;
  private readonly stop = new AbortController();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: WarmPoolOptions) {
    this.refill();
  }

  take(): WarmContainer | undefined {
    const entry = this.idle.shift();
    // Refill a moment later, so creating the next container does not compete with this run's first command.
    clearTimeout(this.refillTimer);
    this.refillTimer = setTimeout(() => this.refill(), REFILL_DELAY_MS);
    return entry;
  }

  /** Resolves once the pool is full (at once when its size is 0). */
  filled(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.idle.length >= this.options.size || this.closed) {
          this.waiters.delete(check);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
      };
      const onAbort = () => {
        this.waiters.delete(check);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    this.stop.abort();
    const entries = this.idle.splice(0);
    await Promise.all(entries.map((e) => this.destroy(e)));
    for (const w of [...this.waiters]) w();
  }

  private refill(): void {
    const concurrency = 2;
    while (
      !this.closed &&
      this.idle.length + this.creating < this.options.size &&
      this.creating < concurrency
    ) {
      this.creating++;
      void this.createOne();
    }
  }

  private async createOne(): Promise<void> {
    try {
      const entry = await this.options.create(this.stop.signal);
      if (this.closed) await this.destroy(entry);
      else {
        this.idle.push(entry);
        this.failures = 0;
      }
    } catch (err) {
      if (!this.closed) {
        this.failures++;
        this.options.log.error(
          { err, failures: this.failures },
          'warm pool could not create a container; retrying',
        );
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** this.failures)).unref());
      }
    } finally {
      this.creating--;
    }
    for (const w of [...this.waiters]) w();
    this.refill();
  }

  private async destroy(entry: WarmContainer): Promise<void> {
    try {
      await this.options.destroy(entry);
    } catch (err) {
      this.options.log.error(
        { err, containerId: entry.container.id },
        'warm pool could not remove a container; the start-up sweep will',
      );
    }
  }
}
