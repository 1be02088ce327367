import * as zlib from 'node:zlib';
// kafkajs is CommonJS; Node's ESM loader sees only the names its static analysis finds, so take them from the default export.
import kafkajs from 'kafkajs';
import * as snappy from 'snappyjs';
import * as lz4 from 'lz4js';
import { Decompress as ZstdStream } from 'fzstd';

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
    // A frame need not declare its size (librdkafka's streaming compressor does not), and a
    // few bytes of RLE blocks expand to megabytes: the output is counted as it is produced and
    // the decoder stops at the bound, and no frame may make it allocate a larger window.
    for (const frame of zstdFrames(buffer)) {
      const claimed = Math.max(frame.contentSize ?? 0, frame.windowSize);
      if (claimed > MAX_DECOMPRESSED_BATCH_BYTES) throw new Error(`zstd: frame claims ${claimed} bytes, more than ${MAX_DECOMPRESSED_BATCH_BYTES}`);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    const stream = new ZstdStream((chunk) => {
      total += chunk.length;
      if (total > MAX_DECOMPRESSED_BATCH_BYTES) throw new Error(`zstd: batch decompresses to more than ${MAX_DECOMPRESSED_BATCH_BYTES} bytes`);
      parts.push(chunk.slice());
    });
    stream.push(buffer, true);
    return Buffer.concat(parts, total);
  },
};

interface ZstdFrame {
  contentSize: number | undefined;
  windowSize: number;
}

const ZSTD_MAGIC = 0xfd2fb528;
const isSkippableMagic = (magic: number): boolean => (magic & 0xfffffff0) === 0x184d2a50;

/**
 * The frames of a zstd buffer with the sizes their headers claim (RFC 8878 §3.1.1), found by
 * walking block headers without decoding, so the bound is checked before the decoder allocates.
 */
export function zstdFrames(buffer: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  const truncated = (): never => {
    throw new Error('zstd: truncated frame');
  };
  for (let at = 0; at < buffer.length; ) {
    if (at + 8 > buffer.length) truncated();
    const magic = buffer.readUInt32LE(at);
    if (isSkippableMagic(magic)) {
      at += 8 + buffer.readUInt32LE(at + 4);
      if (at > buffer.length) truncated();
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Error('zstd: not a zstd frame');
    const descriptor = buffer[at + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const hasChecksum = (descriptor >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    let cursor = at + 5;
    let windowSize = 0;
    if (!singleSegment) {
      const windowDescriptor = buffer[cursor++]!;
      const base = 2 ** (10 + (windowDescriptor >> 3));
      windowSize = base + (base / 8) * (windowDescriptor & 7);
    }
    cursor += dictBytes;
    if (cursor + sizeBytes > buffer.length) truncated();
    let contentSize: number | undefined;
    if (sizeBytes === 1) contentSize = buffer[cursor]!;
    else if (sizeBytes === 2) contentSize = buffer.readUInt16LE(cursor) + 256;
    else if (sizeBytes === 4) contentSize = buffer.readUInt32LE(cursor);
    else if (sizeBytes === 8) contentSize = Number(buffer.readBigUInt64LE(cursor));
    cursor += sizeBytes;
    if (singleSegment) windowSize = contentSize!;
    for (let last = 0; !last; ) {
      if (cursor + 3 > buffer.length) truncated();
      const header = buffer.readUIntLE(cursor, 3);
      last = header & 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new Error('zstd: reserved block type');
      cursor += 3 + (type === 1 ? 1 : header >> 3);
      if (cursor > buffer.length) truncated();
    }
    at = cursor + (hasChecksum ? 4 : 0);
    if (at > buffer.length) truncated();
    frames.push({ contentSize, windowSize });
  }
  return frames;
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
