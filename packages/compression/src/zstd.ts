import { Decompress } from 'fzstd';
import { DecompressionError, OutputBudget } from './errors.js';

/**
 * Zstandard decoding (RFC 8878) over fzstd, pure JavaScript (from before Node's
 * zlib had zstd; its frame checks and output budget are what keep it). fzstd allocates a frame's whole window up front (up to 2 GiB,
 * as the header asks), so every frame header is checked here first.
 */

const MAGIC = 0xfd2fb528;
/** zstd's own default limit for decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
const MAX_ZSTD_WINDOW_BYTES = 128 << 20;

interface FrameHeader {
  length: number;
  contentSize: number | undefined;
  windowSize: number;
  checksum: boolean;
}

/** Parses the frame header at `at`: undefined if it is not one, 'incomplete' if more bytes are needed. */
function frameHeader(buf: Uint8Array, at: number): FrameHeader | undefined | 'incomplete' {
  if (buf.length - at < 5) return 'incomplete';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(at, true) !== MAGIC) return undefined;
  const descriptor = buf[at + 4]!;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  const length = 5 + (singleSegment ? 0 : 1) + dictBytes + sizeBytes;
  if (buf.length - at < length) return 'incomplete';
  const sizeAt = at + length - sizeBytes;
  let contentSize: number | undefined;
  if (sizeBytes === 1) contentSize = buf[sizeAt]!;
  else if (sizeBytes === 2) contentSize = view.getUint16(sizeAt, true) + 256;
  else if (sizeBytes === 4) contentSize = view.getUint32(sizeAt, true);
  else if (sizeBytes === 8) contentSize = Number(view.getBigUint64(sizeAt, true));
  let windowSize = contentSize ?? 0;
  if (!singleSegment) {
    const wd = buf[at + 5]!;
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  return { length, contentSize, windowSize, checksum: ((descriptor >> 2) & 1) === 1 };
}

type ScanState =
  | { at: 'frame' }
  | { at: 'skip'; remaining: number }
  | { at: 'block-header' }
  | { at: 'block'; remaining: number; last: boolean }
  | { at: 'checksum'; remaining: number };

/**
 * Decodes zstd data pushed in pieces: one or more frames (every zstd encoder's
 * streaming output, or one frame per block as clickhouse-connect writes).
 * Output is counted against `budget` as it is produced.
 */
export class ZstdDecoder {
  readonly #inner: Decompress;
  #out: Buffer[] = [];
  #state: ScanState = { at: 'frame' };
  #pending: Buffer = Buffer.alloc(0);
  #checksum = false;

  constructor(private readonly budget: OutputBudget) {
    this.#inner = new Decompress((data) => {
      if (data.length === 0) return;
      this.budget.reserve(data.length);
      // a copy: fzstd may hand out a view of its window, which the next block overwrites
      this.#out.push(Buffer.from(data));
    });
  }

  push(chunk: Uint8Array): Buffer[] {
    this.#scan(chunk);
    this.#feed(chunk, false);
    return this.#take();
  }

  end(): Buffer[] {
    if (this.#state.at !== 'frame' || this.#pending.length > 0) throw new DecompressionError('corrupt', 'the zstd data ends inside a frame');
    this.#feed(new Uint8Array(0), true);
    return this.#take();
  }

  #take(): Buffer[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #feed(chunk: Uint8Array, final: boolean): void {
    try {
      this.#inner.push(chunk, final);
    } catch (error) {
      if (error instanceof DecompressionError) throw error;
      throw new DecompressionError('corrupt', `invalid zstd data: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Follows frame and block boundaries so each frame header is checked before fzstd sees it. */
  #scan(chunk: Uint8Array): void {
    let buf: Uint8Array = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const state = this.#state;
      const left = buf.length - at;
      if (left === 0) break;
      if (state.at === 'frame') {
        if (left < 8) break;
        const magic = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0, true);
        if (magic >>> 4 === 0x184d2a5) {
          this.#state = { at: 'skip', remaining: new DataView(buf.buffer, buf.byteOffset + at + 4, 4).getUint32(0, true) };
          at += 8;
          continue;
        }
        const header = frameHeader(buf, at);
        if (header === 'incomplete') break;
        if (header === undefined) throw new DecompressionError('corrupt', `not zstd data (magic 0x${magic.toString(16)})`);
        if (header.contentSize !== undefined && header.contentSize > this.budget.limit - this.budget.used) {
          throw new DecompressionError('too-large', `a zstd frame claims ${header.contentSize} bytes, more than the ${this.budget.limit} allowed`);
        }
        if (header.windowSize > MAX_ZSTD_WINDOW_BYTES) {
          throw new DecompressionError('corrupt', `a zstd frame asks for a ${header.windowSize}-byte window, more than the ${MAX_ZSTD_WINDOW_BYTES} allowed`);
        }
        this.#checksum = header.checksum;
        this.#state = { at: 'block-header' };
        at += header.length;
      } else if (state.at === 'skip' || state.at === 'block' || state.at === 'checksum') {
        const n = Math.min(left, state.remaining);
        state.remaining -= n;
        at += n;
        if (state.remaining === 0) {
          if (state.at === 'block' && !state.last) this.#state = { at: 'block-header' };
          else if (state.at === 'block' && this.#checksum) this.#state = { at: 'checksum', remaining: 4 };
          else this.#state = { at: 'frame' };
        }
      } else {
        if (left < 3) break;
        const word = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16);
        const last = (word & 1) === 1;
        const type = (word >> 1) & 3;
        const size = word >>> 3;
        if (type === 3) throw new DecompressionError('corrupt', 'invalid zstd block type');
        at += 3;
        // an RLE block holds one byte, repeated `size` times
        const body = type === 1 ? 1 : size;
        this.#state = body > 0 ? { at: 'block', remaining: body, last } : last ? (this.#checksum ? { at: 'checksum', remaining: 4 } : { at: 'frame' }) : { at: 'block-header' };
      }
    }
    this.#pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
  }
}

/** Decodes a whole buffer of zstd frames, at most `maxBytes` of output. */
export function decompressZstd(input: Uint8Array, maxBytes: number): Buffer {
  const decoder = new ZstdDecoder(new OutputBudget(maxBytes, 'the zstd data'));
  const out = [...decoder.push(input), ...decoder.end()];
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}
