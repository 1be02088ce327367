import { compressLz4Block, decompressLz4Block, decompressZstd, DecompressionError, PendingBytes, type OutputBudget } from '@crm/compression';
import { cityHash128 } from './cityhash128.js';

/**
 * ClickHouse's own compression framing, which the HTTP interface speaks with
 * `compress=1` (the response) and `decompress=1` (the request body), and the
 * JDBC driver uses by default: blocks of
 * `checksum (16) | method (1) | compressed size (4) | decompressed size (4) | data`,
 * sizes little-endian and counting the 9 header bytes, the checksum being
 * CityHash128 (1.0.2) of everything after it.
 */

export const NativeMethod = { NONE: 0x02, LZ4: 0x82, ZSTD: 0x90 } as const;
const CHECKSUM_BYTES = 16;
const HEADER_BYTES = 9;
/** ClickHouse's DBMS_MAX_COMPRESSED_SIZE. */
export const MAX_NATIVE_BLOCK_BYTES = 0x40000000;
/** What ClickHouse's CompressedWriteBuffer puts in one block (DBMS_DEFAULT_BUFFER_SIZE). */
const RESPONSE_BLOCK_BYTES = 1 << 20;

export class NativeFramingError extends Error {
  readonly retriable = false;
  constructor(
    readonly kind: 'checksum' | 'method' | 'size' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'NativeFramingError';
  }
}

/** Decodes a request body of native blocks pushed in pieces of any size; output is counted against `budget` before allocation. */
export class NativeBlockDecoder {
  readonly #input = new PendingBytes();

  constructor(
    private readonly budget: OutputBudget,
    private readonly verifyChecksums = true,
  ) {}

  push(chunk: Buffer): Buffer[] {
    const buf = this.#input.add(chunk);
    if (buf === undefined) return [];
    const out: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= CHECKSUM_BYTES + HEADER_BYTES) {
      const method = buf[at + CHECKSUM_BYTES]!;
      const compressedSize = buf.readUInt32LE(at + CHECKSUM_BYTES + 1);
      const size = buf.readUInt32LE(at + CHECKSUM_BYTES + 5);
      if (compressedSize < HEADER_BYTES || compressedSize > MAX_NATIVE_BLOCK_BYTES || size > MAX_NATIVE_BLOCK_BYTES) {
        throw new NativeFramingError('size', `Too large size_compressed_without_checksum: ${compressedSize}. Most likely corrupted data`);
      }
      // checked before waiting for the block, so a header's claims never make us buffer more than the limit
      if (size > this.budget.limit - this.budget.used) this.budget.reserve(size);
      if (compressedSize > HEADER_BYTES + size + Math.ceil(size / 255) + 64) {
        throw new NativeFramingError('size', `A compressed block of ${compressedSize} bytes cannot hold ${size} bytes: corrupted data`);
      }
      if (buf.length - at < CHECKSUM_BYTES + compressedSize) break;
      const block = buf.subarray(at + CHECKSUM_BYTES, at + CHECKSUM_BYTES + compressedSize);
      if (this.verifyChecksums) {
        const [low, high] = cityHash128(block);
        if (buf.readBigUInt64LE(at) !== low || buf.readBigUInt64LE(at + 8) !== high) {
          throw new NativeFramingError('checksum', 'Checksum doesn\'t match: corrupted data');
        }
      }
      this.budget.reserve(size);
      out.push(decodeBlock(method, block.subarray(HEADER_BYTES), size));
      at += CHECKSUM_BYTES + compressedSize;
    }
    const rest = buf.subarray(at);
    this.#input.keep(rest, rest.length >= CHECKSUM_BYTES + HEADER_BYTES ? CHECKSUM_BYTES + rest.readUInt32LE(CHECKSUM_BYTES + 1) : CHECKSUM_BYTES + HEADER_BYTES);
    return out;
  }

  end(): void {
    if (this.#input.length > 0) throw new NativeFramingError('corrupt', 'Cannot read all data: the body ends inside a compressed block');
  }
}

function decodeBlock(method: number, data: Buffer, size: number): Buffer {
  try {
    if (method === NativeMethod.LZ4) {
      const out = Buffer.allocUnsafe(size);
      const end = decompressLz4Block(data, 0, data.length, out, 0);
      if (end !== size) throw new Error(`the block decompressed to ${end} bytes, not the ${size} its header says`);
      return out;
    }
    if (method === NativeMethod.ZSTD) {
      const out = decompressZstd(data, size);
      if (out.length !== size) throw new Error(`the block decompressed to ${out.length} bytes, not the ${size} its header says`);
      return out;
    }
    if (method === NativeMethod.NONE) {
      if (data.length !== size) throw new Error('an uncompressed block whose sizes differ');
      return Buffer.from(data);
    }
  } catch (error) {
    if (error instanceof DecompressionError && error.reason === 'too-large') throw error;
    throw new NativeFramingError('corrupt', `Cannot decompress the block: ${(error as Error).message}`);
  }
  throw new NativeFramingError('method', `Unknown codec family code: 0x${method.toString(16)} (the embedded host reads LZ4, ZSTD and NONE blocks)`);
}

/** Frames response bytes as LZ4 native blocks of at most 1 MiB, as ClickHouse's CompressedWriteBuffer does. */
export class NativeBlockEncoder {
  readonly #hashTable = new Int32Array(1 << 16);

  encode(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0; at < chunk.length; at += RESPONSE_BLOCK_BYTES) {
      const part = chunk.subarray(at, Math.min(chunk.length, at + RESPONSE_BLOCK_BYTES));
      const compressed = compressLz4Block(part, this.#hashTable);
      const block = Buffer.allocUnsafe(CHECKSUM_BYTES + HEADER_BYTES + compressed.length);
      block[CHECKSUM_BYTES] = NativeMethod.LZ4;
      block.writeUInt32LE(HEADER_BYTES + compressed.length, CHECKSUM_BYTES + 1);
      block.writeUInt32LE(part.length, CHECKSUM_BYTES + 5);
      compressed.copy(block, CHECKSUM_BYTES + HEADER_BYTES);
      const [low, high] = cityHash128(block.subarray(CHECKSUM_BYTES));
      block.writeBigUInt64LE(low, 0);
      block.writeBigUInt64LE(high, 8);
      out.push(block);
    }
    return out;
  }
}
