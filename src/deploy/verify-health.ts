import type { HealthConfig } from '../config/deploy-config.js';
import { hostAllowed } from './check-deploy-config.js';

/** One probe of an environment's health (all configured checks at once). */
export interface ProbeResult {
  readonly ok: boolean;
  /** `HTTP 200`, `HTTP 503: body…`, `prometheus: 0 series`, `exit 1`. */
  readonly detail: string;
  readonly at: number;
}

export interface HealthOutcome {
  readonly healthy: boolean;
  /** How it was decided: enough passes, enough consecutive failures, or time ran out. */
  readonly by: 'successes' | 'failures' | 'timeout';
  /** Why it was called: `3 consecutive passes`, `3 consecutive failures`, `no 3 passes within 120 s`. */
  readonly reason: string;
  /** The last probes (at most 10), oldest first. */
  readonly probes: readonly ProbeResult[];
  /** When the verdict was reached (ms since epoch): the failure threshold for a rollback. */
  readonly decidedAt: number;
}

/** Runs a `health.command` probe (in a container, like a command deployer): exit 0 passes. */
export type CommandProbe = (
  command: string,
  signal: AbortSignal,
) => Promise<{ exitCode: number; output: string }>;

async function httpProbe(h: HealthConfig, url: string, signal: AbortSignal): Promise<string | undefined> {
  const response = await fetch(url, {
    signal,
    redirect: 'manual',
    headers: { 'user-agent': 'droidworks-health' },
  });
  const body = await response.text();
  if (response.status !== h.expectStatus)
    return `HTTP ${response.status} (expected ${h.expectStatus}): ${body.slice(0, 200)}`;
  if (h.bodyContains && !body.includes(h.bodyContains))
    return `HTTP ${response.status} without "${h.bodyContains}": ${body.slice(0, 200)}`;
  return undefined;
}

async function prometheusProbe(
  p: { url: string; query: string },
  signal: AbortSignal,
): Promise<string | undefined> {
  const url = new URL('api/v1/query', p.url.endsWith('/') ? p.url : `${p.url}/`);
  url.searchParams.set('query', p.query);
  const response = await fetch(url, { signal });
  if (!response.ok) return `prometheus HTTP ${response.status}`;
  const json = (await response.json()) as { data?: { result?: Array<{ value?: [number, string] }> } };
  const result = json.data?.result ?? [];
  if (result.length === 0) return `prometheus: no series for ${p.query}`;
  const zero = result.find((r) => Number(r.value?.[1] ?? 0) === 0);
  return zero ? `prometheus: ${p.query} is 0` : undefined;
}

/** One probe of every configured check; a thrown error (refused connection) is a failed probe. */
export async function probeOnce(
  h: HealthConfig,
  options: { allowHosts?: readonly string[]; command?: CommandProbe; signal: AbortSignal },
): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(Math.max(1000, Math.min(10_000, h.timeoutSec * 1000)));
  const signal = AbortSignal.any([options.signal, timeout]);
  const problems: string[] = [];
  const passes: string[] = [];
  try {
    if (h.url) {
      if (!hostAllowed(h.url, options.allowHosts)) problems.push(`${h.url} is not an allowed host`);
      else {
        const p = await httpProbe(h, h.url, signal);
        if (p) problems.push(p);
        else passes.push(`HTTP ${h.expectStatus}`);
      }
    }
    if (h.prometheus) {
      const p = await prometheusProbe(h.prometheus, signal);
      if (p) problems.push(p);
      else passes.push('prometheus ok');
    }
    if (h.command) {
      if (!options.command) problems.push('command health checks need the Docker sandbox');
      else {
        const r = await options.command(h.command, signal);
        if (r.exitCode !== 0) problems.push(`\`${h.command}\` exit ${r.exitCode}: ${r.output.slice(-200)}`);
        else passes.push(`\`${h.command}\` exit 0`);
      }
    }
  } catch (err) {
    options.signal.throwIfAborted();
    const cause = (err as { cause?: { code?: string } }).cause;
    problems.push(
      timeout.aborted ? 'probe timed out' : `probe failed: ${cause?.code ?? (err as Error).message}`,
    );
  }
  return {
    ok: problems.length === 0,
    detail: problems.length ? problems.join('; ') : passes.join(', '),
    at: Date.now(),
  };
}

/**
 * Probes every `intervalSec` until `successes` consecutive passes (healthy) or `failures`
 * consecutive failures, or `timeoutSec` without enough passes (failed).
 */
export async function verifyHealth(
  h: HealthConfig,
  options: {
    allowHosts?: readonly string[];
    command?: CommandProbe;
    signal: AbortSignal;
    onProbe?: (probe: ProbeResult) => Promise<void> | void;
  },
): Promise<HealthOutcome> {
  const deadline = Date.now() + h.timeoutSec * 1000;
  const probes: ProbeResult[] = [];
  let passes = 0;
  let fails = 0;
  for (;;) {
    const probe = await probeOnce(h, options);
    probes.push(probe);
    if (probes.length > 10) probes.shift();
    await options.onProbe?.(probe);
    if (probe.ok) {
      passes += 1;
      fails = 0;
    } else {
      fails += 1;
      passes = 0;
    }
    if (passes >= h.successes)
      return {
        healthy: true,
        by: 'successes',
        reason: `${passes} consecutive passing probes`,
        probes,
        decidedAt: Date.now(),
      };
    if (fails >= h.failures)
      return {
        healthy: false,
        by: 'failures',
        reason: `${fails} consecutive failing probes`,
        probes,
        decidedAt: Date.now(),
      };
    if (Date.now() + h.intervalSec * 1000 > deadline)
      return {
        healthy: false,
        by: 'timeout',
        reason: `not ${h.successes} consecutive passing probes within ${h.timeoutSec} s`,
        probes,
        decidedAt: Date.now(),
      };
    await sleep(h.intervalSec * 1000, options.signal);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
