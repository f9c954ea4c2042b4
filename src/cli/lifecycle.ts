import type { Logger } from '../util/logger.js';

/**
 * What a long-running command started, stopped in reverse order on SIGINT/SIGTERM or when start-up
 * fails. Signal handlers are installed at once, so a signal during start-up also stops what was
 * already started (the embedded redis-server) instead of killing the process around it.
 */
export interface Lifecycle {
  /** Registers something to stop; it is stopped at once if the lifecycle is already stopping. */
  add(close: () => Promise<void>): void;
  /** Stops everything registered (once; later calls wait for the same stop). */
  close(): Promise<void>;
  /** Resolves after a signal stopped everything. */
  untilSignal(): Promise<string>;
}

export function createLifecycle(logger: Logger, options: { graceMs?: number } = {}): Lifecycle {
  const closers: Array<() => Promise<void>> = [];
  let closing: Promise<void> | undefined;
  let signalled: (signal: string) => void = () => undefined;
  const signalledP = new Promise<string>((resolve) => (signalled = resolve));

  const close = (): Promise<void> => {
    closing ??= (async () => {
      while (closers.length > 0) {
        const next = closers.pop()!;
        try {
          await next();
        } catch (err) {
          logger.error({ err }, 'error while shutting down; continuing with the rest');
        }
      }
    })();
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, 'second signal while shutting down: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceMs: options.graceMs ?? 30_000 }, 'shutdown took too long: exiting');
      process.exit(1);
    }, options.graceMs ?? 30_000);
    force.unref();
    void close().then(() => {
      clearTimeout(force);
      signalled(signal);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    add(fn) {
      if (!closing) closers.push(fn);
      else
        void fn().catch((err: unknown) =>
          logger.error({ err }, 'error while stopping what started during shutdown'),
        );
    },
    close,
    untilSignal: () => signalledP,
  };
}
