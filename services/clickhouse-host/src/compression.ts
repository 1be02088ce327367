import { Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { DecompressionError, Lz4FrameDecoder, Lz4FrameEncoder, OutputBudget, ZstdDecoder } from '@crm/compression';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';
import { NativeBlockDecoder, NativeBlockEncoder, NativeFramingError } from './native-compression.js';
import { bodyTooLarge } from './limits.js';

/**
 * The compression ClickHouse's HTTP interface speaks: HTTP `Content-Encoding`
 * of the request body and, with `enable_http_compression=1`, of the response
 * (gzip, deflate, br, zstd, lz4), and its native block framing (`decompress=1`,
 * `compress=1`). Every decoder counts its output against one limit, so a
 * compression bomb stops at that limit.
 */

export type ResponseCodec = 'gzip' | 'deflate' | 'br' | 'lz4' | 'zstd';

/** ClickHouse's chooseHTTPCompressionMethod order. */
export function chooseResponseCodec(acceptEncoding: string | undefined): ResponseCodec | undefined {
  if (!acceptEncoding) return undefined;
  const offered = acceptEncoding.toLowerCase();
  if (offered.includes('zstd')) return 'zstd';
  if (offered.includes('br')) return 'br';
  if (offered.includes('lz4')) return 'lz4';
  if (offered.includes('gzip')) return 'gzip';
  if (offered.includes('deflate')) return 'deflate';
  return undefined;
}

export interface BodyDecoding {
  /** The request's Content-Encoding header, as sent. */
  contentEncoding: string | undefined;
  /** `decompress=1`: the body is ClickHouse's native compressed blocks (inside any Content-Encoding). */
  native: boolean;
  /** `http_native_compression_disable_checksumming_on_decompress=1` skips the block checksums. */
  verifyChecksums: boolean;
  /** No layer may produce more than this many bytes. */
  maxBytes: number;
}

const IDENTITY = new Set(['', 'identity', 'none']);
const ZLIB: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** Checks the encoding before any of the body is read, so an unknown one is refused whole. */
export function checkContentEncoding(contentEncoding: string | undefined): void {
  const encoding = normalise(contentEncoding);
  if (IDENTITY.has(encoding) || encoding in ZLIB || encoding === 'zstd' || encoding === 'lz4') return;
  throw ClickHouseException.of(
    ErrorCode.UNKNOWN_COMPRESSION_METHOD,
    `Content-Encoding '${encoding}' is not supported by the embedded ClickHouse host (it reads gzip, deflate, br, zstd and lz4)`,
  );
}

function normalise(contentEncoding: string | undefined): string {
  return String(contentEncoding ?? '').trim().toLowerCase();
}

/** The body as its decoded bytes, in pieces; errors come out as ClickHouse exceptions. */
export async function* decodeBody(source: AsyncIterable<Buffer>, decoding: BodyDecoding): AsyncGenerator<Buffer> {
  const encoding = normalise(decoding.contentEncoding);
  checkContentEncoding(encoding);
  let decoded: AsyncIterable<Buffer> = source;
  if (!IDENTITY.has(encoding)) decoded = decodeContent(source, encoding, decoding.maxBytes);
  if (decoding.native) decoded = decodeNative(decoded, decoding);
  try {
    yield* decoded;
  } catch (error) {
    throw asClickHouseError(error, encoding, decoding.native, decoding.maxBytes);
  }
}

async function* decodeContent(source: AsyncIterable<Buffer>, encoding: string, maxBytes: number): AsyncGenerator<Buffer> {
  const budget = new OutputBudget(maxBytes, 'the request body');
  const zlibFactory = ZLIB[encoding];
  if (zlibFactory) {
    // zlib writes its output in 16 KiB pieces; counting them as they come bounds a bomb to the limit
    const input = Readable.from(source);
    const inflater = input.pipe(zlibFactory());
    try {
      for await (const chunk of inflater as AsyncIterable<Buffer>) {
        budget.reserve(chunk.length);
        yield chunk;
      }
    } finally {
      // ends the source's iteration too, so the rest of the request can be drained
      input.destroy();
      inflater.destroy();
    }
    return;
  }
  const decoder = encoding === 'zstd' ? new ZstdDecoder(budget) : new Lz4FrameDecoder(budget);
  for await (const chunk of source) yield* decoder.push(chunk);
  const rest = decoder.end();
  if (rest) yield* rest;
}

async function* decodeNative(source: AsyncIterable<Buffer>, decoding: BodyDecoding): AsyncGenerator<Buffer> {
  const decoder = new NativeBlockDecoder(new OutputBudget(decoding.maxBytes, 'the request body'), decoding.verifyChecksums);
  for await (const chunk of source) yield* decoder.push(chunk);
  decoder.end();
}

function asClickHouseError(error: unknown, encoding: string, native: boolean, maxBytes: number): unknown {
  if (error instanceof ClickHouseException) return error;
  if (error instanceof DecompressionError) {
    if (error.reason === 'too-large') return bodyTooLarge(maxBytes);
    return ClickHouseException.of(ErrorCode.CANNOT_DECOMPRESS, `cannot decompress the request body (${native && IDENTITY.has(encoding) ? 'native' : encoding}): ${error.message}`);
  }
  if (error instanceof NativeFramingError) {
    if (error.kind === 'checksum') return ClickHouseException.of(ErrorCode.CHECKSUM_DOESNT_MATCH, error.message);
    if (error.kind === 'method') return ClickHouseException.of(ErrorCode.UNKNOWN_COMPRESSION_METHOD, error.message);
    if (error.kind === 'size') return ClickHouseException.of(ErrorCode.TOO_LARGE_SIZE_COMPRESSED, error.message);
    return ClickHouseException.of(ErrorCode.CANNOT_DECOMPRESS, error.message);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return ClickHouseException.of(ErrorCode.ZLIB_INFLATE_FAILED, `cannot decompress the request body (${encoding}): ${(error as Error).message}`);
  }
  return error;
}

/** A compressor for the response body; `flush` ends what is buffered so far so it can be decoded on its own. */
export type ResponseCompressor = Transform & { flush?: (callback: () => void) => void };

export function createResponseCompressor(codec: ResponseCodec, level: number): ResponseCompressor {
  const zlibLevel = Math.min(Math.max(level, 1), 9);
  switch (codec) {
    case 'gzip':
      return zlib.createGzip({ level: zlibLevel });
    case 'deflate':
      return zlib.createDeflate({ level: zlibLevel });
    case 'br':
      return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: Math.min(level, 11) } });
    case 'zstd':
      return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
    case 'lz4': {
      const encoder = new Lz4FrameEncoder();
      return blockTransform((chunk) => encoder.write(chunk), () => encoder.end());
    }
  }
}

/** `compress=1`: the response body as native LZ4 blocks. */
export function createNativeCompressor(): ResponseCompressor {
  const encoder = new NativeBlockEncoder();
  return blockTransform((chunk) => encoder.encode(chunk), () => []);
}

/** Each write becomes whole blocks at once, so there is never anything to flush. */
function blockTransform(write: (chunk: Buffer) => Buffer[], end: () => Buffer[]): ResponseCompressor {
  const transform: ResponseCompressor = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        for (const piece of write(chunk)) this.push(piece);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      for (const piece of end()) this.push(piece);
      callback();
    },
  });
  transform.flush = (callback) => callback();
  return transform;
}
