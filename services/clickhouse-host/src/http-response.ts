import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pipeline, type Writable } from 'node:stream';
import { httpStatusFor, type ClickHouseException } from './clickhouse-errors.js';
import { createNativeCompressor, createResponseCompressor, type ResponseCodec, type ResponseCompressor } from './compression.js';

/** Writes responses the way ClickHouse's HTTP handler does: headers, compression, and errors before or after the body started. */

const DISPLAY_NAME = hostname();
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** ClickHouse bounds the whole mid-stream exception block to 16 KiB. */
const MAX_EXCEPTION_MESSAGE_BYTES = 16 * 1024 - 256;

export function sendOk(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': '4' }).end('Ok.\n');
}

export function sendNotFound(res: ServerResponse, path: string): void {
  const body = `There is no handle ${path}\n\nUse / or /ping for health checks.\n`;
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
}

/** An error before any of the body went out: its own status, `X-ClickHouse-Exception-Code`, and the text as the body. */
export function sendError(res: ServerResponse, error: ClickHouseException, extra: { queryId?: string; timezone?: string } = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${error.text}\n`;
  res
    .writeHead(httpStatusFor(error.code), {
      'Content-Type': 'text/plain; charset=UTF-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'X-ClickHouse-Server-Display-Name': DISPLAY_NAME,
      ...(extra.queryId === undefined ? {} : { 'X-ClickHouse-Query-Id': extra.queryId }),
      ...(extra.timezone === undefined ? {} : { 'X-ClickHouse-Timezone': extra.timezone }),
      'X-ClickHouse-Exception-Code': String(error.code),
    })
    .end(body);
}

/** Roughly the Content-Type ClickHouse's output formats declare. */
export function contentTypeFor(format: string | undefined): string {
  const f = (format ?? '').toLowerCase();
  if (f.startsWith('json') || f === 'ndjson' || f === 'jsonl') {
    return f.includes('eachrow') || f === 'ndjson' || f === 'jsonl' || f.includes('lines')
      ? 'application/x-ndjson; charset=UTF-8'
      : 'application/json; charset=UTF-8';
  }
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  if (/^(native|rowbinary|parquet|arrow|orc|avro|protobuf|msgpack|capnproto|bson|npy|raw)/.test(f)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

function exceptionTag(): string {
  const bytes = randomBytes(16);
  let tag = '';
  for (const b of bytes) tag += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return tag;
}

/**
 * ClickHouse (25.11+) ends a body whose query failed after output began with
 * `\r\n__exception__\r\n<tag>\r\n<message>\n<length> <tag>\r\n__exception__\r\n`,
 * `<tag>` being the response's `X-ClickHouse-Exception-Tag`; clickhouse-js reads
 * the message back by that length, counting the newline after it.
 */
export function exceptionBlock(tag: string, text: string): Buffer {
  let message = Buffer.from(text, 'utf8');
  if (message.length > MAX_EXCEPTION_MESSAGE_BYTES) message = message.subarray(0, MAX_EXCEPTION_MESSAGE_BYTES);
  return Buffer.concat([
    Buffer.from(`\r\n__exception__\r\n${tag}\r\n`),
    message,
    Buffer.from(`\n${message.length + 1} ${tag}\r\n__exception__\r\n`),
  ]);
}

export interface ResultHeaders {
  queryId: string;
  format: string | undefined;
  timezone: string;
  summary: Record<string, string>;
  codec?: ResponseCodec;
  /** `compress=1`: native LZ4 blocks, inside any HTTP codec. */
  nativeCompression?: boolean;
  compressionLevel: number;
  /** Known when the whole body is in hand and goes out uncompressed. */
  contentLength?: number;
}

/** The body of a successful response, written with back-pressure, optionally compressed. */
export class ResultWriter {
  readonly #res: ServerResponse;
  #out: Writable;
  #compressors: ResponseCompressor[] = [];
  #tag = exceptionTag();
  #gone = false;

  constructor(res: ServerResponse) {
    this.#res = res;
    this.#out = res;
    res.once('close', () => {
      if (!res.writableFinished) this.#gone = true;
    });
  }

  /** The client went away: nothing more is worth producing. */
  get clientGone(): boolean {
    return this.#gone;
  }

  start(headers: ResultHeaders): void {
    const res = this.#res;
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeFor(headers.format));
    res.setHeader('X-ClickHouse-Server-Display-Name', DISPLAY_NAME);
    res.setHeader('X-ClickHouse-Query-Id', headers.queryId);
    if (headers.format !== undefined) res.setHeader('X-ClickHouse-Format', headers.format);
    res.setHeader('X-ClickHouse-Timezone', headers.timezone);
    res.setHeader('X-ClickHouse-Exception-Tag', this.#tag);
    res.setHeader('X-ClickHouse-Summary', JSON.stringify(headers.summary));
    // Native blocks go inside the HTTP encoding, as ClickHouse layers them.
    if (headers.nativeCompression) this.#compressors.push(createNativeCompressor());
    if (headers.codec) {
      res.setHeader('Content-Encoding', headers.codec);
      this.#compressors.push(createResponseCompressor(headers.codec, headers.compressionLevel));
    }
    if (this.#compressors.length > 0) {
      this.#out = this.#compressors[0]!;
      pipeline([...this.#compressors, res] as unknown as [Writable, Writable], (error) => {
        if (error) this.#gone = true;
      });
    } else if (headers.contentLength !== undefined) {
      res.setHeader('Content-Length', String(headers.contentLength));
    }
    res.flushHeaders();
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#gone) return;
    if (!this.#out.write(chunk)) await drained(this.#out);
  }

  /** A failure after the body began: the status is already 200, so the error goes at the end of the body. */
  async fail(error: ClickHouseException): Promise<void> {
    if (this.#gone) return;
    // Flushing first keeps the block in a chunk of its own once decompressed; the client looks for it at a chunk's end.
    for (const compressor of this.#compressors) {
      if (compressor.flush) await new Promise<void>((resolve) => compressor.flush!(() => resolve()));
    }
    await this.write(exceptionBlock(this.#tag, error.text));
  }

  async end(): Promise<void> {
    if (this.#gone) {
      this.#res.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      this.#out.end(() => resolve());
      this.#out.once('error', () => resolve());
    });
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
