import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as snappy from 'snappyjs';
import { lz4Codec, snappyCodec, zstdCodec } from '../src/codecs.js';

// A record batch's payload: repetitive enough to compress, with random parts.
const payload = Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.concat([Buffer.from(`{"event_id":"${i}","total":12.5}`), randomBytes(8)])));

describe('compression codecs', () => {
  it('snappy round-trips what it compresses; lz4 reads frames only (librdkafka-produced ones: test/compressed-batches.kafka.test.ts)', async () => {
    expect(await snappyCodec.decompress(await snappyCodec.compress({ buffer: payload }))).toEqual(payload);
    await expect(lz4Codec.compress({ buffer: payload })).rejects.toThrow(/not supported for producing/);
  });

  it('snappy reads the xerial framing Java producers write (magic, versions, length-prefixed blocks)', async () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const blocks = [payload.subarray(0, 1000), payload.subarray(1000)].map((part) => {
      const compressed = Buffer.from(snappy.compress(part));
      const size = Buffer.alloc(4);
      size.writeUInt32BE(compressed.length);
      return Buffer.concat([size, compressed]);
    });
    expect(await snappyCodec.decompress(Buffer.concat([header, ...blocks]))).toEqual(payload);
  });

  it('zstd reads a frame and refuses one that claims more than the bound before allocating', async () => {
    // zstd frame: magic, descriptor (single segment, 1-byte size), a raw block holding "hello".
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 5, 0x29, 0, 0, ...Buffer.from('hello')]);
    expect((await zstdCodec.decompress(frame)).toString()).toBe('hello');
    // Same frame with an 8-byte content size of 2^40.
    const huge = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x29, 0, 0, ...Buffer.from('hello')]);
    await expect(zstdCodec.decompress(huge)).rejects.toThrow(/claims 1099511627776 bytes/);
  });

  it('zstd counts what a frame without a declared size produces and stops at the bound', async () => {
    // Frame without a content size (as streaming compressors write), a 1 MiB window, and RLE
    // blocks: four bytes each expand to 128 KiB, so 9 KB of input claims 288 MiB.
    const rle = (size: number, last: boolean) => {
      const header = Buffer.alloc(3);
      header.writeUIntLE((size << 3) | (1 << 1) | (last ? 1 : 0), 0, 3);
      return Buffer.concat([header, Buffer.from('x')]);
    };
    const frame = (blocks: number, blockSize: number) =>
      Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3]), ...Array.from({ length: blocks }, (_, i) => rle(blockSize, i === blocks - 1))]);
    expect(await zstdCodec.decompress(frame(3, 1000))).toEqual(Buffer.alloc(3000, 'x'));
    // Two frames back to back, as a batch may hold.
    expect(await zstdCodec.decompress(Buffer.concat([frame(1, 5), frame(2, 7)]))).toEqual(Buffer.alloc(19, 'x'));
    await expect(zstdCodec.decompress(frame(2304, 128 * 1024))).rejects.toThrow(/decompresses to more than 268435456 bytes/);
    // A window descriptor of 2^41 bytes is refused before the decoder allocates the window.
    const hugeWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 31 << 3, ...rle(5, true)]);
    await expect(zstdCodec.decompress(hugeWindow)).rejects.toThrow(/asks for a 2199023255552/);
    await expect(zstdCodec.decompress(frame(3, 1000).subarray(0, 10))).rejects.toThrow(/ends inside a frame/);
  });
});
