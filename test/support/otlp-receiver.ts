import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as the receiver decoded it from OTLP/HTTP JSON. */
export interface ReceivedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** `service.name` of the resource that sent it. */
  readonly service: string | undefined;
}

export interface OtlpReceiver {
  /** Base URL, to use as `OTEL_EXPORTER_OTLP_ENDPOINT` (spans arrive at `/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Requests it refused (wrong path, content type or body), to assert there were none. */
  readonly refused: string[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: KeyValue[];
      }>;
    }>;
  }>;
}

function value(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return JSON.stringify(v);
}
const attributes = (kvs: KeyValue[] = []): Record<string, string | number | boolean> =>
  Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * An OpenTelemetry collector's OTLP/HTTP trace intake, in process: `POST /v1/traces` with the JSON
 * encoding (what `@opentelemetry/exporter-trace-otlp-http` sends). Protobuf bodies are refused and
 * listed in `refused`, so a test notices instead of silently seeing no spans.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const refused: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (req.method !== 'POST' || req.url !== '/v1/traces' || type !== 'application/json') {
        refused.push(`${req.method} ${req.url} ${type}`);
        await body(req);
        res.writeHead(415).end();
        return;
      }
      const parsed = JSON.parse((await body(req)).toString('utf8')) as ExportRequest;
      for (const rs of parsed.resourceSpans ?? []) {
        const service = attributes(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              attributes: attributes(s.attributes),
              service: typeof service === 'string' ? service : undefined,
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })().catch((err: unknown) => {
      refused.push(`unreadable body: ${String(err)}`);
      res.writeHead(400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
