import * as zlib from 'node:zlib';
// kafkajs is CommonJS; Node's ESM loader sees only the names its static analysis finds, so take them from the default export.
import kafkajs from 'kafkajs';
import * as snappy from 'snappyjs';
import { decompressLz4Frames, decompressZstd } from '@crm/compression';

/**
 * kafkajs reads only gzip by itself; a batch compressed with snappy, lz4 or
 * zstd (librdkafka, the Java client, Kafka Connect, Debezium) would crash the
 * consumer. These codecs are pure JavaScript (snappyjs; lz4 and zstd from
 * @crm/compression, over lz4js and fzstd): they install from the npm registry
 * alone, with no native build or binary download.
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
  decompress: async (buffer) => decompressLz4Frames(buffer, MAX_DECOMPRESSED_BATCH_BYTES),
};

export const zstdCodec: Codec = {
  // Our producers do not choose zstd; a kafkajs client of this package that does gets zlib's.
  compress: async ({ buffer }) => zlib.zstdCompressSync(buffer),
  // refuses a frame that claims (or grows) past the bound before allocating it
  decompress: async (buffer) => decompressZstd(buffer, MAX_DECOMPRESSED_BATCH_BYTES),
};

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
