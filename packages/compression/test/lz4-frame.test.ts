import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecompressionError, Lz4FrameDecoder, Lz4FrameEncoder, OutputBudget, compressLz4Block, decompressLz4Block, decompressLz4Frames } from '../src/index.js';

const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `{"customer":"c-${i % 911}","total":${i / 4}}\n`).join(''));
const LZ4_CLI = spawnSync('lz4', ['-V'], { stdio: 'ignore' }).status === 0;

function decodeInPieces(body: Buffer, pieceBytes: number, limit = 1 << 30): Buffer {
  const decoder = new Lz4FrameDecoder(new OutputBudget(limit, 'test'));
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += pieceBytes) out.push(...decoder.push(body.subarray(at, at + pieceBytes)));
  out.push(...decoder.end());
  return Buffer.concat(out);
}

describe('LZ4 blocks and frames', () => {
  it('round-trips blocks of any content, keeping the end-of-block rules the reference decoder enforces', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(13, 7), Buffer.alloc(100_000, 7), randomBytes(50_000), text]) {
      const block = compressLz4Block(data);
      const out = new Uint8Array(data.length);
      expect(decompressLz4Block(block, 0, block.length, out, 0)).toBe(data.length);
      expect(Buffer.from(out).equals(data)).toBe(true);
    }
    expect(compressLz4Block(text).length).toBeLessThan(text.length / 3);
  });

  it('writes one frame block by block and reads it back from pieces of any size', () => {
    const encoder = new Lz4FrameEncoder();
    const frame = Buffer.concat([...encoder.write(text.subarray(0, 1000)), ...encoder.write(text.subarray(1000)), ...encoder.end()]);
    for (const piece of [1, 7, 4096, frame.length]) expect(decodeInPieces(frame, piece).equals(text)).toBe(true);
  });

  it.skipIf(!LZ4_CLI)('reads what the lz4 tool writes (linked blocks, checksums, several frames) and the tool reads what it writes', () => {
    const tool = (args: string[], input: Buffer) => spawnSync('lz4', ['-q', ...args], { input, maxBuffer: 1 << 28 }).stdout;
    const linked = Buffer.concat([tool(['-c', '-BD', '-B4', '--content-size'], text), tool(['-c', '-BX'], text)]);
    expect(decodeInPieces(linked, 333).equals(Buffer.concat([text, text]))).toBe(true);
    const encoder = new Lz4FrameEncoder();
    expect(tool(['-d', '-c'], Buffer.concat([...encoder.write(text), ...encoder.end()])).equals(text)).toBe(true);
  });

  it('stops at the output limit and refuses a corrupt header', () => {
    const encoder = new Lz4FrameEncoder();
    const frame = Buffer.concat([...encoder.write(Buffer.alloc(1 << 20)), ...encoder.end()]);
    expect(() => decompressLz4Frames(frame, 1000)).toThrow(DecompressionError);
    expect(() => decompressLz4Frames(frame, 1000)).toThrow(/more than 1000 bytes/);
    const corrupt = Buffer.from(frame);
    corrupt[6] = corrupt[6]! ^ 0xff;
    expect(() => decompressLz4Frames(corrupt, 1 << 30)).toThrow(/header checksum/);
    expect(() => decompressLz4Frames(frame.subarray(0, frame.length - 2), 1 << 30)).toThrow(/ends inside a frame/);
  });
});
