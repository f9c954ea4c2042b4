import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../util/logger.js';

/** Tracing of this process, started once by the CLI entry. */
export interface Tracing {
  /** Passed down to the gateway and the worker (never looked up globally by them). */
  readonly tracer: Tracer;
  /** Sends the spans still buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK with the OTLP/HTTP trace exporter when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `…_TRACES_ENDPOINT`) is set; returns undefined otherwise, and then nothing is traced and
 * nothing costs. No automatic instrumentation, no metrics or logs through OpenTelemetry (Prometheus
 * and pino own those): the spans are droidworks' own (delivery, run, step, model call, sandbox command).
 */
export function startTracing(
  settings: Config['tracing'],
  logger: Logger,
  version = '0.0.0',
): Tracing | undefined {
  if (!settings.url) return undefined;
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    traceExporter: new OTLPTraceExporter({ url: settings.url, headers: { ...settings.headers } }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  logger.info({ url: settings.url, service: settings.serviceName }, 'sending traces over OTLP/HTTP');
  return {
    tracer: trace.getTracer('droidworks', version),
    async shutdown() {
      try {
        await sdk.shutdown();
      } catch (err) {
        // The collector may be gone at shutdown; the process stops anyway.
        logger.warn({ err }, 'could not send the last traces');
      } finally {
        // The SDK registered itself with the OpenTelemetry API; unregister so that a later start in
        // this process (a test, the demo after a stack) registers its own instead of a stopped one.
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
