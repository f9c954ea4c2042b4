import { createHmac } from 'node:crypto';
import { redact } from '../util/redact.js';
import { hostAllowed } from './check-deploy-config.js';
import type { Deployer, DeployRequest } from './types.js';

/** The webhook body, with its keys in the documented order. */
export function webhookBody(request: DeployRequest): string {
  return JSON.stringify({
    action: request.action,
    repository: request.repository,
    environment: request.environment,
    sha: request.sha,
    previousSha: request.previousSha,
    deploymentId: request.deploymentId,
    runId: request.runId,
  });
}

/** `sha256=<hex HMAC-SHA256 of the exact body>`: GitHub's own webhook signature scheme. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * A deployer that POSTs the signed request to a URL: a 2xx within `timeoutSec` means done; anything
 * else fails with the status and the first 2 kB of the body.
 */
export function webhookDeployer(hook: {
  readonly url: string;
  /** The secret's value (resolved from `DROIDWORKS_SECRET_<NAME>`). */
  readonly secret: string;
  readonly timeoutSec: number;
  readonly allowHosts: readonly string[] | undefined;
}): Deployer {
  return async (request, signal) => {
    if (!hostAllowed(hook.url, hook.allowHosts))
      return { ok: false, summary: `${hook.url} is not in DROIDWORKS_DEPLOY_ALLOW_HOSTS` };
    const body = webhookBody(request);
    const timeout = AbortSignal.timeout(hook.timeoutSec * 1000);
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'droidworks-deploy',
          'x-droidworks-event': request.action,
          'x-droidworks-signature-256': signature(hook.secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, timeout]),
      });
      const text = redact((await response.text()).slice(0, 2048), [hook.secret]);
      const ok = response.status >= 200 && response.status < 300;
      return { ok, summary: `HTTP ${response.status} from ${hook.url}`, output: text };
    } catch (err) {
      signal.throwIfAborted();
      if (timeout.aborted)
        return { ok: false, summary: `no answer from ${hook.url} within ${hook.timeoutSec} s` };
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return {
        ok: false,
        summary: `could not reach ${hook.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      };
    }
  };
}
