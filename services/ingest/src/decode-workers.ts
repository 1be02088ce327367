import { Worker } from 'node:worker_threads';
import { CrmError, type Logger } from '@crm/runtime';
import type { BatchDecodeContext, DecodedBatch } from './decode-batch.js';
import { prepareMessage, type DecodeContext } from './decode-message.js';
import { decodeInline, type BatchInput } from './process-batch.js';
import type { AnyStream } from './streams.js';
import { EMPTY_SUPPRESSION, type SuppressionList } from './suppression-list.js';

/** A batch as it crosses to a worker: the values in one transferred buffer, the rest in flat arrays. */
export interface DecodeTask {
  id: number;
  schema: AnyStream['schema'];
  partition: number;
  /** Every message's value, back to back. */
  values: ArrayBuffer;
  /** Where each message's value ends in `values`; -1 for a message without one. */
  ends: Int32Array;
  contentTypes: string[];
  sizes: Float64Array;
  offsets: string[];
  ctx: DecodeContext;
  /** Sent when the list changed since this worker's last task. */
  suppression?: SuppressionList;
}

export type DecodeReply = { id: number; decoded: DecodedBatch } | { id: number; error: string } | { ready: true };

export interface DecodeWorkers {
  decode(stream: AnyStream, batch: BatchInput, ctx: BatchDecodeContext): Promise<DecodedBatch>;
  /** Workers loaded and taking batches. */
  readyCount(): number;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  /** Loaded and answering; until then its share of batches is decoded inline. */
  ready: boolean;
  pending: Map<number, { resolve(decoded: DecodedBatch): void; reject(error: unknown): void }>;
  suppression?: SuppressionList;
}

/**
 * Decoding, validation and row encoding on worker threads, so the consumer's thread only fetches,
 * sends and commits: on two cores, what one thread did alone is split between two (docs/BENCHMARKS.md).
 * A batch goes to the ready worker with the fewest in flight; while none is ready (the first
 * few hundred milliseconds, as a worker loads its modules) batches are decoded inline, so start-up
 * does not wait for them. A worker that dies fails its batches with a retriable error (their
 * partitions are read again, partitionLanes) and is replaced; one that cannot start at all is
 * reported and not replaced, and decoding stays inline.
 */
export function decodeWorkers(count: number, logger: Logger, options: { script?: URL } = {}): DecodeWorkers {
  let nextId = 0;
  let closing = false;
  const slots: Slot[] = [];
  const { url, execArgv } = workerScript(options.script);
  const since = Date.now();

  const spawn = (): Slot => {
    const worker = new Worker(url, { ...(execArgv && { execArgv }), name: 'crm-ingest-decode' });
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.on('message', (reply: DecodeReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        return void logger.debug({ ms: Date.now() - since }, 'decoding worker ready');
      }
      const task = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if ('error' in reply) task?.reject(new Error(`decoding a batch failed: ${reply.error}`));
      else task?.resolve(reply.decoded);
    });
    worker.on('error', (error) => {
      if (!closing) logger.error({ err: error }, slot.ready ? 'decoding worker crashed; its batches are read again' : 'decoding worker could not start; decoding on the main thread');
    });
    worker.on('exit', (code) => {
      const failure = new CrmError('WORKER_FAILED', `the decoding worker exited (code ${code}) with ${slot.pending.size} batches in flight`, { retriable: true });
      for (const task of slot.pending.values()) task.reject(failure);
      slot.pending.clear();
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      // A worker that never started would fail the same way again.
      if (!closing && slot.ready) slots.push(spawn());
    });
    return slot;
  };

  for (let i = 0; i < count; i++) slots.push(spawn());

  return {
    decode(stream, batch, ctx) {
      let slot: Slot | undefined;
      for (const s of slots) if (s.ready && (slot === undefined || s.pending.size < slot.pending.size)) slot = s;
      if (slot === undefined) return decodeInline(stream, batch, ctx);
      const task = pack(nextId++, stream, batch, ctx);
      if (ctx.suppression !== slot.suppression) {
        task.suppression = ctx.suppression ?? EMPTY_SUPPRESSION;
        slot.suppression = ctx.suppression;
      }
      const chosen = slot;
      return new Promise<DecodedBatch>((resolve, reject) => {
        chosen.pending.set(task.id, { resolve, reject });
        chosen.worker.postMessage(task, [task.values, task.ends.buffer as ArrayBuffer, task.sizes.buffer as ArrayBuffer]);
      });
    },
    readyCount: () => slots.filter((s) => s.ready).length,
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

function pack(id: number, stream: AnyStream, batch: BatchInput, ctx: BatchDecodeContext): DecodeTask {
  const { messages } = batch;
  let total = 0;
  for (const m of messages) total += m.value?.length ?? 0;
  const values = new ArrayBuffer(total);
  const bytes = new Uint8Array(values);
  const ends = new Int32Array(messages.length);
  const sizes = new Float64Array(messages.length);
  const contentTypes: string[] = new Array(messages.length);
  const offsets: string[] = new Array(messages.length);
  let at = 0;
  messages.forEach((m, i) => {
    const prepared = prepareMessage(m);
    if (prepared.value === null) ends[i] = -1;
    else {
      bytes.set(prepared.value, at);
      ends[i] = at += prepared.value.length;
    }
    sizes[i] = prepared.size;
    contentTypes[i] = prepared.contentType;
    offsets[i] = prepared.offset;
  });
  const { now, maxFutureSkewMs, maxMessageBytes, reportingCurrency, fxRates } = ctx;
  return { id, schema: stream.schema, partition: batch.partition, values, ends, contentTypes, sizes, offsets, ctx: { now, maxFutureSkewMs, maxMessageBytes, reportingCurrency, fxRates } };
}

/**
 * The worker's module beside this one. Run from source (the services run under tsx), the worker
 * needs tsx's loader too: a process started with `--import tsx` passes it on, a test runner's may not.
 */
function workerScript(script?: URL): { url: URL; execArgv?: string[] } {
  const url = script ?? new URL(import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', import.meta.url);
  const fromSource = url.pathname.endsWith('.ts');
  if (!fromSource || process.execArgv.some((arg) => arg.includes('tsx'))) return { url };
  return { url, execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] };
}
