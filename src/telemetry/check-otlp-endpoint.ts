import type { Config } from '../config/load-config.js';

/** The OTLP endpoint did not accept an (empty) export. */
export class OtlpEndpointError extends Error {
  override readonly name = 'OtlpEndpointError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The OpenTelemetry collector at ${url} (OTEL_EXPORTER_OTLP_ENDPOINT) ${reason}; traces are dropped until it does.`,
      options,
    );
  }
}

/**
 * Sends an empty OTLP/HTTP JSON export to the traces URL, as the exporter would: a collector
 * answers 2xx. For `droidworks doctor`; tracing itself never stops droidworks.
 */
export async function checkOtlpEndpoint(
  tracing: Config['tracing'],
  signal: AbortSignal = AbortSignal.timeout(5000),
): Promise<string> {
  const url = tracing.url;
  if (!url) return 'off (OTEL_EXPORTER_OTLP_ENDPOINT is not set)';
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...tracing.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [] }),
      signal,
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    throw new OtlpEndpointError(url, `cannot be reached (${code ?? (err as Error).message})`, { cause: err });
  }
  await res.body?.cancel();
  if (!res.ok) throw new OtlpEndpointError(url, `answered HTTP ${res.status} to an export`);
  return `${url} accepts traces (service ${tracing.serviceName})`;
}
