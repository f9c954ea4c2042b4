import type { Logger } from '../util/logger.js';

/** The smee channel cannot be used (bad URL, unreachable, no answer in time). */
export class SmeeUnreachableError extends Error {
  override readonly name = 'SmeeUnreachableError';
  constructor(
    readonly channel: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot receive webhooks through the smee channel ${channel} (--smee): ${reason}. Create a channel at https://smee.io/new and pass its URL, or drop --smee when GitHub can reach the gateway.`,
      options,
    );
  }
}

export interface SmeeForwarder {
  close(): Promise<void>;
}

export interface ForwardSmeeOptions {
  /** The channel URL, e.g. `https://smee.io/AbC123`. */
  readonly channel: string;
  /** The local gateway's webhook route. */
  readonly target: string;
  readonly logger: Logger;
  /** How long to wait for the channel to open. @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
}

/**
 * Forwards the deliveries of a smee.io channel to the local gateway, as Probot does for development
 * without a public address: the App's webhook URL is the channel, `smee-client` reads it as
 * server-sent events and POSTs each delivery (body and GitHub's headers, signature included) to
 * `target`, where it is verified like any other.
 */
export async function forwardSmee(o: ForwardSmeeOptions): Promise<SmeeForwarder> {
  if (!/^https?:\/\/[^/]+/.test(o.channel))
    throw new SmeeUnreachableError(o.channel, 'it is not an http:// or https:// URL');
  const log = o.logger.child({ component: 'smee' });
  // Loaded only with --smee: the other commands do not pay for its HTTP client.
  const { SmeeClient } = await import('smee-client');
  // smee-client logs every forwarded delivery at info; ours are counted by the gateway already.
  const client = new SmeeClient({
    source: o.channel,
    target: o.target,
    maxConnectionTimeout: o.connectTimeoutMs ?? 10_000,
    logger: {
      info: (...args: unknown[]) => log.debug({ detail: args.map(String).join(' ') }, 'smee'),
      error: (...args: unknown[]) =>
        log.warn(
          { detail: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') },
          'smee error',
        ),
    },
  });
  try {
    await client.start();
  } catch (err) {
    await client.stop();
    const reason = err instanceof Error ? err.message : describeEvent(err);
    throw new SmeeUnreachableError(o.channel, reason, { cause: err });
  }
  log.info({ channel: o.channel, target: o.target }, 'forwarding webhooks from smee');
  return { close: () => client.stop() };
}

/** The `error` event of an EventSource that never opened. */
function describeEvent(e: unknown): string {
  const { message, code } = (e ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message === 'string' && message) return message;
  return typeof code === 'number' ? `the channel answered ${code}` : 'no connection';
}
