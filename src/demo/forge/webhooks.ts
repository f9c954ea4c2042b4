import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import type { HookDelivery } from './types.js';

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface OutgoingHook {
  readonly event: string;
  readonly action: string | null;
  readonly payload: Record<string, unknown>;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
}

/** `sha256=` HMAC of the raw body, as in `X-Hub-Signature-256`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends the forge's webhooks one at a time, in order, off the request path: every delivery
 * (answered or not) is recorded so the App deliveries API can list and redeliver it.
 */
export class WebhookSender {
  readonly deliveries: HookDelivery[] = [];
  private target: WebhookTarget | undefined;
  private readonly queue: HookDelivery[] = [];
  private paused = false;
  private enabled = true;
  private draining: Promise<void> | undefined;
  private lastId = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    target: WebhookTarget | undefined,
    private readonly options: { logger?: Logger; timeoutMs?: number; now?: () => number } = {},
  ) {
    this.target = target;
  }

  /** Points deliveries at a (new) receiver; undefined stops sending. */
  configure(target: WebhookTarget | undefined): void {
    this.target = target;
    this.kick();
  }

  /** Holds deliveries in the queue until {@link resume}. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** While disabled, events are dropped (not recorded), as with an inactive hook. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Queues a new delivery; returns it at once (it is sent asynchronously). */
  enqueue(hook: OutgoingHook): HookDelivery | undefined {
    if (!this.enabled || !this.target) return undefined;
    return this.push({ ...hook, body: JSON.stringify(hook.payload), guid: randomUUID(), redelivery: false });
  }

  /** Sends a recorded delivery again with the same GUID and body (`redelivery: true`). */
  redeliver(id: number): HookDelivery | undefined {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original) return undefined;
    return this.push({ ...original, redelivery: true });
  }

  /** Resolves once every queued delivery has been attempted. */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.draining) {
      await (this.draining ?? new Promise<void>((resolve) => this.waiters.add(resolve)));
    }
  }

  private push(
    input: Omit<HookDelivery, 'id' | 'deliveredAt' | 'statusCode' | 'status' | 'duration'>,
  ): HookDelivery {
    const delivery: HookDelivery = {
      ...input,
      id: ++this.lastId,
      deliveredAt: new Date((this.options.now ?? Date.now)()).toISOString(),
      statusCode: 0,
      status: 'queued',
      duration: 0,
    };
    this.deliveries.push(delivery);
    this.queue.push(delivery);
    this.kick();
    return delivery;
  }

  private kick(): void {
    if (this.draining || this.paused || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      for (const wake of this.waiters) wake();
      this.waiters.clear();
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.paused && this.queue.length > 0) {
      const next = this.queue.shift();
      if (next) await this.send(next);
    }
  }

  private async send(delivery: HookDelivery): Promise<void> {
    const target = this.target;
    if (!target) {
      delivery.status = 'No webhook URL configured';
      return;
    }
    const started = Date.now();
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/forge',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.guid,
          'x-github-hook-id': '1',
          'x-github-hook-installation-target-type': 'integration',
          'x-hub-signature-256': signBody(target.secret, delivery.body),
          'x-hub-signature': `sha1=${createHmac('sha1', target.secret).update(delivery.body).digest('hex')}`,
        },
        body: delivery.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer();
      delivery.statusCode = response.status;
      delivery.status = response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`;
    } catch (err) {
      delivery.statusCode = 0;
      delivery.status =
        err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'failed to connect to host';
      this.options.logger?.warn(
        { guid: delivery.guid, event: delivery.event, err },
        'forge webhook delivery failed',
      );
    } finally {
      delivery.duration = (Date.now() - started) / 1000;
    }
  }
}
