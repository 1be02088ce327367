import { hash as xxh32 } from 'lz4js/xxh32.js';
import { DecompressionError, OutputBudget } from './errors.js';
import { compressLz4Block, decompressLz4Block } from './lz4-block.js';
import { PendingBytes } from './pending-bytes.js';

/**
 * The LZ4 frame format (lz4.org's lz4_Frame_format.md): what `Content-Encoding:
 * lz4` carries and Kafka's lz4 batches hold. Python's lz4.frame (clickhouse-connect)
 * links blocks and writes one frame per insert block, so a body is many frames
 * in a row; skippable frames may sit between them.
 */

const MAGIC = 0x184d2204;
const SKIPPABLE_MIN = 0x184d2a50;
const SKIPPABLE_MAX = 0x184d2a5f;
const BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** Linked blocks may refer back this far into earlier output. */
const WINDOW_BYTES = 64 << 10;
const UNCOMPRESSED_BIT = 0x80000000;

type State =
  | { at: 'magic' }
  | { at: 'skip'; remaining: number }
  | { at: 'descriptor' }
  | { at: 'block' }
  | { at: 'content-checksum' };

interface Frame {
  blockMax: number;
  linked: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
}

/**
 * Decodes LZ4 frames pushed in pieces of any size; every byte of output is
 * counted against `budget` before it is allocated. Checksums are not verified:
 * HTTP and Kafka carry their own integrity checks, and the engine parses what follows.
 */
export class Lz4FrameDecoder {
  readonly #input = new PendingBytes();
  #state: State = { at: 'magic' };
  #frame: Frame | undefined;
  #history: Uint8Array = new Uint8Array(0);

  constructor(private readonly budget: OutputBudget) {}

  /** Decodes what `chunk` completes; returns the output, possibly empty. */
  push(chunk: Uint8Array): Buffer[] {
    const input = this.#input.add(chunk);
    if (input === undefined) return [];
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      const step = this.#step(input, at, out);
      if (step === at) break;
      at = step;
    }
    this.#input.keep(input.subarray(at), this.#needed(input.subarray(at)));
    return out;
  }

  /** Bytes the current unit needs, so a large block is joined once rather than on every piece. */
  #needed(rest: Buffer): number {
    if (this.#state.at === 'block' && rest.length >= 4) {
      const size = rest.readUInt32LE(0) & 0x7fffffff;
      return 4 + size + (this.#frame!.blockChecksum ? 4 : 0);
    }
    return 1;
  }

  /** The input ended: anything but a frame boundary is a truncated body. */
  end(): Buffer[] {
    if (this.#state.at !== 'magic' || this.#input.length > 0) throw new DecompressionError('corrupt', 'the LZ4 data ends inside a frame');
    return [];
  }

  /** Consumes one unit (header, block, checksum) at `at` if it is all there; returns the new position. */
  #step(buf: Buffer, at: number, out: Buffer[]): number {
    const left = buf.length - at;
    const state = this.#state;
    switch (state.at) {
      case 'magic': {
        if (left < 4) return at;
        const magic = buf.readUInt32LE(at);
        if (magic === MAGIC) {
          this.#state = { at: 'descriptor' };
          return at + 4;
        }
        if (magic >= SKIPPABLE_MIN && magic <= SKIPPABLE_MAX) {
          if (left < 8) return at;
          this.#state = { at: 'skip', remaining: buf.readUInt32LE(at + 4) };
          return at + 8;
        }
        throw new DecompressionError('corrupt', `not LZ4 frame data (magic 0x${magic.toString(16)})`);
      }
      case 'skip': {
        const n = Math.min(state.remaining, left);
        if (n === 0) return at;
        state.remaining -= n;
        if (state.remaining === 0) this.#state = { at: 'magic' };
        return at + n;
      }
      case 'descriptor': {
        if (left < 3) return at;
        const flg = buf[at]!;
        const bd = buf[at + 1]!;
        if (flg >> 6 !== 1) throw new DecompressionError('corrupt', `unsupported LZ4 frame version ${flg >> 6}`);
        if (flg & 0x01) throw new DecompressionError('corrupt', 'LZ4 frames with a dictionary are not supported');
        const size = 2 + (flg & 0x08 ? 8 : 0) + 1;
        if (left < size) return at;
        const expected = (xxh32(0, buf, at, size - 1) >>> 8) & 0xff;
        if (buf[at + size - 1] !== expected) throw new DecompressionError('corrupt', 'the LZ4 frame header checksum does not match');
        const blockMax = BLOCK_MAX_BYTES[(bd >> 4) & 7];
        if (blockMax === undefined) throw new DecompressionError('corrupt', `invalid LZ4 block maximum size code ${(bd >> 4) & 7}`);
        this.#frame = { blockMax, linked: (flg & 0x20) === 0, blockChecksum: (flg & 0x10) !== 0, contentChecksum: (flg & 0x04) !== 0 };
        this.#history = new Uint8Array(0);
        this.#state = { at: 'block' };
        return at + size;
      }
      case 'block': {
        if (left < 4) return at;
        const frame = this.#frame!;
        const word = buf.readUInt32LE(at);
        if (word === 0) {
          this.#state = frame.contentChecksum ? { at: 'content-checksum' } : { at: 'magic' };
          return at + 4;
        }
        const size = word & 0x7fffffff;
        if (size > frame.blockMax) throw new DecompressionError('corrupt', `an LZ4 block of ${size} bytes exceeds the frame's ${frame.blockMax}-byte blocks`);
        const total = 4 + size + (frame.blockChecksum ? 4 : 0);
        if (left < total) return at;
        let block: Buffer;
        if (word & UNCOMPRESSED_BIT) {
          this.budget.reserve(size);
          block = Buffer.from(buf.subarray(at + 4, at + 4 + size));
        } else {
          const history = frame.linked ? this.#history : new Uint8Array(0);
          const dst = new Uint8Array(history.length + frame.blockMax);
          dst.set(history, 0);
          let end: number;
          try {
            end = decompressLz4Block(buf, at + 4, size, dst, history.length);
          } catch (error) {
            throw new DecompressionError('corrupt', (error as Error).message, { cause: error });
          }
          this.budget.reserve(end - history.length);
          block = Buffer.from(dst.buffer, dst.byteOffset + history.length, end - history.length);
        }
        if (frame.linked) this.#history = keepWindow(this.#history, block);
        out.push(block);
        return at + total;
      }
      case 'content-checksum': {
        if (left < 4) return at;
        this.#state = { at: 'magic' };
        return at + 4;
      }
    }
  }
}

function keepWindow(history: Uint8Array, block: Uint8Array): Uint8Array {
  if (block.length >= WINDOW_BYTES) return block.slice(block.length - WINDOW_BYTES);
  const keep = Math.min(history.length, WINDOW_BYTES - block.length);
  const next = new Uint8Array(keep + block.length);
  next.set(history.subarray(history.length - keep), 0);
  next.set(block, keep);
  return next;
}

/** Decodes a whole buffer of LZ4 frames, at most `maxBytes` of output. */
export function decompressLz4Frames(input: Uint8Array, maxBytes: number): Buffer {
  const decoder = new Lz4FrameDecoder(new OutputBudget(maxBytes, 'the LZ4 data'));
  const out = decoder.push(input);
  decoder.end();
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/**
 * Writes one LZ4 frame, block by block as data arrives (independent 4 MiB
 * blocks, no checksums), so a streamed response is a single frame: Python's
 * lz4.frame reads one frame per decompressor.
 */
export class Lz4FrameEncoder {
  static readonly BLOCK_MAX_BYTES = 4 << 20;
  #started = false;
  readonly #hashTable = new Int32Array(1 << 16);

  /** The frame so far for `chunk`; the first call also returns the frame header. */
  write(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(frameHeader());
    }
    for (let at = 0; at < chunk.length; at += Lz4FrameEncoder.BLOCK_MAX_BYTES) {
      const part = chunk.subarray(at, Math.min(chunk.length, at + Lz4FrameEncoder.BLOCK_MAX_BYTES));
      const compressed = compressLz4Block(part, this.#hashTable);
      const size = Buffer.allocUnsafe(4);
      if (compressed.length < part.length) {
        size.writeUInt32LE(compressed.length);
        out.push(size, compressed);
      } else {
        size.writeUInt32LE((part.length | UNCOMPRESSED_BIT) >>> 0);
        out.push(size, Buffer.from(part));
      }
    }
    return out;
  }

  /** The end mark (and the header, for an empty frame). */
  end(): Buffer[] {
    const out = this.#started ? [] : [frameHeader()];
    this.#started = true;
    out.push(Buffer.alloc(4));
    return out;
  }
}

function frameHeader(): Buffer {
  // FLG: version 01, independent blocks; BD: 4 MiB maximum block size.
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0]);
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  return header;
}
