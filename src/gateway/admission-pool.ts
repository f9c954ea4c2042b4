import { Worker, type ResourceLimits } from 'node:worker_threads';
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
  /** Heap limits of each thread (a thread over them dies and is replaced). @defaultValue node's */
  readonly resourceLimits?: ResourceLimits;
}

/**
 * How to start the thread's module next to this one: the built `.js` directly; the `.ts` source
 * (tsx in dev, vitest in tests) through a small bootstrap that registers tsx in the thread first.
 * Node 20 does not apply `--import tsx` in a worker's `execArgv` to the worker's own entry module
 * (ERR_UNKNOWN_FILE_EXTENSION), so the bootstrap calls tsx's `register()` itself.
 */
function threadEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { entry: new URL('./admission-thread.js', import.meta.url), eval: false };
  // tsx is a devDependency: the source only runs where it is installed.
  const tsx = import.meta.resolve('tsx/esm/api');
  const thread = new URL('./admission-thread.ts', import.meta.url).href;
  return {
    entry: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(thread)}); });`,
    eval: true,
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
  /** Absent while a thread that died before it was ready waits to be restarted by the next delivery. */
  worker: Worker | undefined;
  readonly pending: Map<number, Pending>;
  /** Deliveries not yet posted: those that arrive in one turn of the event loop go as one message. */
  outbox: AdmissionRequest[];
  transfers: ArrayBuffer[];
}

/**
 * Starts a small pool of admission threads (`DROIDWORKS_GATEWAY_THREADS`) and resolves once each has
 * loaded (or rejects, with the thread's error as the cause). Each delivery's bytes are transferred
 * to the least busy thread (zero copy when the buffer owns its memory, one copy otherwise), which
 * answers with the routed job (a few hundred bytes) or the refusal; a refusal is rebuilt here as the
 * same {@link WebhookRejected}, so `decideRejection` maps it as before. A thread that dies is
 * replaced, and the deliveries it held are refused with a 500, never left hanging.
 */
export async function startAdmissionPool(o: AdmissionPoolOptions): Promise<AdmissionPool> {
  const { entry, eval: isEval } = threadEntry();
  const data: AdmissionData = { secret: o.secret, settings: o.settings };
  const slots: Slot[] = [];
  let nextId = 0;
  let closing = false;

  function settle(s: Slot, m: AdmissionReply): void {
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
  }

  /** Posts the slot's outbox as one message (run by `setImmediate`, after the turn's reads). */
  function flush(s: Slot): void {
    const batch = s.outbox;
    const transfers = s.transfers;
    s.outbox = [];
    s.transfers = [];
    if (batch.length === 0) return;
    s.worker?.postMessage(batch, transfers);
  }

  /** Starts the slot's thread; the promise settles when it is ready or has exited. */
  function start(s: Slot): Promise<void> {
    const worker = new Worker(entry, { eval: isEval, workerData: data, resourceLimits: o.resourceLimits });
    s.worker = worker;
    let failure: Error | undefined;
    let ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (replies: readonly AdmissionReply[] | { readonly ready: true }) => {
        if ('ready' in replies) {
          ready = true;
          return resolve();
        }
        for (const m of replies) settle(s, m);
      });
      worker.on('error', (err) => {
        failure = err;
      });
      worker.on('exit', (code) => {
        if (s.worker === worker) s.worker = undefined;
        const err = new AdmissionThreadError(`admission thread exited (code ${code})`, { cause: failure });
        for (const p of s.pending.values()) p.reject(err);
        s.pending.clear();
        s.outbox = [];
        s.transfers = [];
        if (!ready) return reject(err);
        if (closing) return;
        o.logger.error({ err }, 'admission thread exited; starting another');
        start(s).catch((e: unknown) =>
          o.logger.error({ err: e }, 'admission thread did not start; the next delivery retries'),
        );
      });
    });
  }

  for (let i = 0; i < Math.max(1, o.threads); i++)
    slots.push({ worker: undefined, pending: new Map(), outbox: [], transfers: [] });
  try {
    await Promise.all(slots.map(start));
  } catch (err) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker?.terminate()));
    throw err;
  }

  return {
    admit(headers: DeliveryHeaders, raw: Uint8Array): Promise<Admitted> {
      if (closing) return Promise.reject(new AdmissionThreadError('the gateway is shutting down'));
      let slot = slots[0]!;
      for (let i = 1; i < slots.length; i++) if (slots[i]!.pending.size < slot.pending.size) slot = slots[i]!;
      if (!slot.worker)
        start(slot).catch((e: unknown) => o.logger.error({ err: e }, 'admission thread did not start'));
      // Transfer the bytes; a view into a larger (pooled or shared) buffer is copied first, so the
      // transfer never detaches memory that something else still uses.
      const owned =
        raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer
          ? raw
          : new Uint8Array(raw);
      const id = nextId++;
      if (slot.outbox.length === 0) setImmediate(flush, slot);
      slot.outbox.push({ id, headers, raw: owned });
      slot.transfers.push(owned.buffer as ArrayBuffer);
      return new Promise<Admitted>((resolve, reject) => slot.pending.set(id, { resolve, reject }));
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker?.terminate()));
    },
  };
}
