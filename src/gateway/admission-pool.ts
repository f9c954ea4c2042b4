import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/logger.js';
import type { Admit, Admitted } from './admit-delivery.js';
import { WebhookRejected, type DeliveryHeaders } from './handle-delivery.js';
import type { RouteSettings } from './route-event.js';

/** What an admission thread starts with (`workerData`). */
export interface AdmissionData {
  readonly secret: string;
  readonly settings: RouteSettings;
}

/** A delivery posted to an admission thread; `raw` is transferred, not copied. */
export interface AdmissionRequest {
  readonly id: number;
  readonly headers: DeliveryHeaders;
  readonly raw: Uint8Array;
}

/** An admission thread's answer: the routed result, a refusal to rebuild, or an unexpected error. */
export type AdmissionReply =
  | { readonly id: number; readonly admitted: Admitted }
  | {
      readonly id: number;
      readonly rejected: {
        readonly status: 400 | 401 | 413 | 415 | 503;
        readonly outcome: string;
        readonly message: string;
        readonly cause?: string;
      };
    }
  | { readonly id: number; readonly failed: { readonly message: string; readonly stack?: string } };

/** Verify + parse + route on worker threads, so the main thread only serves HTTP and Redis. */
export interface AdmissionPool {
  readonly admit: Admit;
  /** Terminates the threads; deliveries still inside one are refused (500). */
  close(): Promise<void>;
}

export interface AdmissionPoolOptions {
  /** How many threads (≥ 1). */
  readonly threads: number;
  readonly secret: string;
  readonly settings: RouteSettings;
  readonly logger: Logger;
}

/** The thread's module next to this one: `.ts` under tsx and vitest (loaded through tsx), `.js` built. */
function threadModule(): { url: URL; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  return {
    url: new URL(ts ? './admission-thread.ts' : './admission-thread.js', import.meta.url),
    execArgv: ts ? ['--import', 'tsx'] : [],
  };
}

/** An admission thread that exited or failed: what the deliveries inside it are refused with. */
export class AdmissionThreadError extends Error {
  override readonly name = 'AdmissionThreadError';
}

interface Pending {
  resolve(a: Admitted): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * A small pool of admission threads (`DROIDWORKS_GATEWAY_THREADS`). Each delivery's bytes are
 * transferred to the least busy thread (zero copy when the buffer owns its memory, one copy
 * otherwise), which answers with the routed job (a few hundred bytes) or the refusal; a refusal is
 * rebuilt here as the same {@link WebhookRejected}, so `decideRejection` maps it as before. A thread
 * that dies is replaced, and the deliveries it held are refused with a 500, never left hanging.
 */
export function createAdmissionPool(o: AdmissionPoolOptions): AdmissionPool {
  const { url, execArgv } = threadModule();
  const data: AdmissionData = { secret: o.secret, settings: o.settings };
  const slots: Slot[] = [];
  let nextId = 0;
  let closing = false;

  function start(slot: Slot | undefined): Slot {
    const worker = new Worker(url, { workerData: data, execArgv });
    const s: Slot = slot ?? { worker, pending: new Map() };
    s.worker = worker;
    let failure: Error | undefined;
    worker.on('message', (m: AdmissionReply) => {
      const p = s.pending.get(m.id);
      if (!p) return;
      s.pending.delete(m.id);
      if ('admitted' in m) p.resolve(m.admitted);
      else if ('rejected' in m) {
        const r = m.rejected;
        p.reject(new WebhookRejected(r.status, r.outcome, r.message, r.cause && new Error(r.cause)));
      } else {
        const err = new AdmissionThreadError(m.failed.message);
        if (m.failed.stack) err.stack = m.failed.stack;
        p.reject(err);
      }
    });
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      if (s.worker !== worker) return;
      const err = new AdmissionThreadError(`admission thread exited (code ${code})`, { cause: failure });
      for (const p of s.pending.values()) p.reject(err);
      s.pending.clear();
      if (closing) return;
      o.logger.error({ err }, 'admission thread exited; starting another');
      start(s);
    });
    return s;
  }

  for (let i = 0; i < Math.max(1, o.threads); i++) slots.push(start(undefined));

  return {
    admit(headers: DeliveryHeaders, raw: Uint8Array): Promise<Admitted> {
      if (closing) return Promise.reject(new AdmissionThreadError('the gateway is shutting down'));
      let slot = slots[0]!;
      for (let i = 1; i < slots.length; i++) if (slots[i]!.pending.size < slot.pending.size) slot = slots[i]!;
      // Transfer the bytes; a view into a larger (pooled or shared) buffer is copied first, so the
      // transfer never detaches memory that something else still uses.
      const owned =
        raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer
          ? raw
          : new Uint8Array(raw);
      const id = nextId++;
      return new Promise<Admitted>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, headers, raw: owned } satisfies AdmissionRequest, [
          owned.buffer as ArrayBuffer,
        ]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
