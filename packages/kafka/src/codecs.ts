import * as zlib from 'node:zlib';
// kafkajs is CommonJS; Node's ESM loader sees only the names its static analysis finds, so take them from the default export.
import kafkajs from 'kafkajs';
import * as snappy from 'snappyjs';
import * as lz4 from 'lz4js';
import { decompress as zstdDecompress } from 'fzstd';

/**
 * kafkajs reads only gzip by itself; a batch compressed with snappy, lz4 or
 * zstd (librdkafka, the Java client, Kafka Connect, Debezium) would crash the
 * consumer. These codecs are pure JavaScript (snappyjs, lz4js, fzstd): they
 * install from the npm registry alone, with no native build or binary download.
 *
 * The broker decompresses and validates every compressed batch a producer
 * sends, so what reaches us is well-formed; the bound below still keeps a
 * batch that claims an absurd decompressed size from allocating it.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** snappy-java's stream framing (Java producers): magic, two int32 versions, then length-prefixed raw snappy blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

export const snappyCodec: Codec = {
  // Raw snappy, as librdkafka writes it; every Kafka client reads both forms.
  compress: async ({ buffer }) => Buffer.from(snappy.compress(buffer)),
  decompress: async (buffer) => {
    if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
      return Buffer.from(snappy.uncompress(buffer, MAX_DECOMPRESSED_BATCH_BYTES));
    }
    const blocks: Buffer[] = [];
    let total = 0;
    for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
      if (at + 4 > buffer.length) throw new Error('snappy: truncated xerial block header');
      const size = buffer.readUInt32BE(at);
      at += 4;
      if (at + size > buffer.length) throw new Error('snappy: truncated xerial block');
      const block = Buffer.from(snappy.uncompress(buffer.subarray(at, at + size), MAX_DECOMPRESSED_BATCH_BYTES - total));
      total += block.length;
      blocks.push(block);
      at += size;
    }
    return Buffer.concat(blocks, total);
  },
};

/** Kafka's LZ4 is the LZ4 frame format (magic 04 22 4D 18) since message format v1 fixed the header checksum. */
export const lz4Codec: Codec = {
  // lz4js writes frames the broker refuses (dependent blocks; with independent ones, offsets
  // Kafka's decoder rejects), and we never produce lz4 ourselves: only reading is offered.
  compress: async () => {
    throw new Error('lz4 compression is not supported for producing; use gzip or snappy (every codec is read)');
  },
  decompress: async (buffer) => {
    const bound = lz4.decompressBound(buffer);
    if (!(bound >= 0 && bound <= MAX_DECOMPRESSED_BATCH_BYTES)) throw new Error(`lz4: frame claims ${bound} bytes, more than ${MAX_DECOMPRESSED_BATCH_BYTES}`);
    const out = Buffer.alloc(bound);
    return out.subarray(0, lz4.decompressFrame(buffer, out));
  },
};

export const zstdCodec: Codec = {
  // Node 20 has no zstd compressor (zlib gains one in 22.15); we never produce zstd ourselves.
  compress: async ({ buffer }) => {
    const compress = (zlib as { zstdCompressSync?: (input: Buffer) => Buffer }).zstdCompressSync;
    if (compress === undefined) throw new Error('zstd compression needs Node.js 22.15 or newer; decompression works everywhere');
    return compress(buffer);
  },
  decompress: async (buffer) => {
    const declared = zstdDeclaredSize(buffer);
    if (declared !== undefined && declared > MAX_DECOMPRESSED_BATCH_BYTES) throw new Error(`zstd: frame claims ${declared} bytes, more than ${MAX_DECOMPRESSED_BATCH_BYTES}`);
    const out = zstdDecompress(buffer);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  },
};

/** The frame content size from a zstd frame header, when the header carries one (RFC 8878 §3.1.1.1). */
function zstdDeclaredSize(buffer: Buffer): number | undefined {
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== 0xfd2fb528) return undefined;
  const descriptor = buffer[4]!;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  if (sizeBytes === 0 || at + sizeBytes > buffer.length) return undefined;
  if (sizeBytes === 1) return buffer[at]!;
  if (sizeBytes === 2) return buffer.readUInt16LE(at) + 256;
  if (sizeBytes === 4) return buffer.readUInt32LE(at);
  return Number(buffer.readBigUInt64LE(at));
}

const { CompressionCodecs, CompressionTypes } = kafkajs;
let registered = false;

/** Registers the codecs in kafkajs's process-wide table; every client made after it reads every codec. */
export function registerCompressionCodecs(): void {
  if (registered) return;
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
  registered = true;
}
