import type { GitHubHost } from '../github/types.js';
import type { Logger } from '../util/logger.js';

export interface RedeliverOptions {
  /** Look back this far. @defaultValue 3 hours */
  readonly windowMs?: number;
  /** Ask for at most this many redeliveries per sweep. @defaultValue 100 */
  readonly max?: number;
  readonly signal?: AbortSignal;
}

/**
 * GitHub never redelivers a failed webhook by itself (ours answer 503 when Redis is away): list the
 * App's recent deliveries whose latest attempt failed and ask for each again. Redeliveries keep their
 * `X-GitHub-Delivery`, so the gateway's dedupe still holds. Returns the delivery GUIDs asked for.
 */
export async function redeliverFailed(
  github: GitHubHost,
  logger: Logger,
  o: RedeliverOptions = {},
): Promise<string[]> {
  const since = new Date(Date.now() - (o.windowMs ?? 3 * 3600_000));
  const failed = await github.listFailedHookDeliveries({ since, signal: o.signal });
  const asked: string[] = [];
  for (const delivery of failed.slice(0, o.max ?? 100)) {
    try {
      await github.redeliver(delivery.id, { signal: o.signal });
      asked.push(delivery.guid);
    } catch (err) {
      logger.warn(
        { deliveryId: delivery.guid, err },
        'redelivery request failed; the next sweep tries again',
      );
    }
  }
  if (asked.length > 0) logger.info({ count: asked.length }, 'asked GitHub to redeliver failed webhooks');
  return asked;
}
