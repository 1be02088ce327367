import * as lz4 from 'lz4js';

/**
 * Raw LZ4 blocks (the format inside LZ4 frames and ClickHouse's native
 * compression). Decoding is lz4js's; encoding is ours, because lz4js's encoder
 * may start a match within the last 12 bytes of a block, which the reference
 * decoder (liblz4, lz4-java in the JDBC driver, the Kafka broker) rejects.
 */

const MIN_MATCH = 4;
/** A match must start at least this many bytes before the block's end (LZ4 block format, "end of block conditions"). */
const MF_LIMIT = 12;
/** ...and the last this many bytes are literals. */
const LAST_LITERALS = 5;
const MAX_OFFSET = 65_535;

const read32 = (src: Uint8Array, at: number): number => src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24);

/** Compresses `src` into one LZ4 block (greedy, one hash probe per position, like LZ4's fast level). */
export function compressLz4Block(src: Uint8Array, table: Int32Array = new Int32Array(1 << 16)): Buffer {
  const n = src.length;
  const out = Buffer.allocUnsafe(n + Math.ceil(n / 255) + 16);
  let op = 0;
  let anchor = 0;
  if (n > MF_LIMIT) {
    table.fill(-1);
    const matchEndLimit = n - LAST_LITERALS;
    const lastMatchStart = n - MF_LIMIT;
    let ip = 0;
    let misses = 0;
    while (ip <= lastMatchStart) {
      const seq = read32(src, ip);
      const hash = Math.imul(seq, 2654435761) >>> 16;
      const ref = table[hash]!;
      table[hash] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        // skip faster through data that does not compress, as LZ4 does
        ip += 1 + (misses++ >> 6);
        continue;
      }
      misses = 0;
      let start = ip;
      let from = ref;
      while (start > anchor && from > 0 && src[start - 1] === src[from - 1]) {
        start--;
        from--;
      }
      let length = MIN_MATCH + (ip - start);
      while (start + length < matchEndLimit && src[start + length] === src[from + length]) length++;
      op = writeSequence(out, op, src, anchor, start - anchor, start - from, length - MIN_MATCH);
      ip = start + length;
      anchor = ip;
    }
  }
  return out.subarray(0, writeSequence(out, op, src, anchor, n - anchor, 0, -1));
}

/** Token, literal length, literals, then (unless `matchCode` is -1, the last sequence) offset and match length. */
function writeSequence(out: Buffer, op: number, src: Uint8Array, literalsAt: number, literals: number, offset: number, matchCode: number): number {
  const tokenAt = op++;
  let token = (literals >= 15 ? 15 : literals) << 4;
  if (literals >= 15) op = writeLength(out, op, literals - 15);
  if (literals < 32) for (let i = 0; i < literals; i++) out[op + i] = src[literalsAt + i]!;
  else out.set(src.subarray(literalsAt, literalsAt + literals), op);
  op += literals;
  if (matchCode >= 0) {
    out[op++] = offset & 0xff;
    out[op++] = offset >> 8;
    token |= matchCode >= 15 ? 15 : matchCode;
    if (matchCode >= 15) op = writeLength(out, op, matchCode - 15);
  }
  out[tokenAt] = token;
  return op;
}

function writeLength(out: Buffer, op: number, rest: number): number {
  while (rest >= 255) {
    out[op++] = 255;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

/**
 * Decompresses one block into `dst` at `dstStart`; earlier bytes of `dst` are
 * the history linked blocks may refer back to. Returns the end offset, or
 * throws when the block writes past `dst` (its declared size was a lie).
 */
export function decompressLz4Block(src: Uint8Array, srcStart: number, srcLength: number, dst: Uint8Array, dstStart: number): number {
  // lz4js drops writes past the end of a typed array and returns where it would have ended; that is the check.
  const end = lz4.decompressBlock(src, dst, srcStart, srcLength, dstStart);
  if (!(end >= dstStart && end <= dst.length)) throw new RangeError(`the LZ4 block decompresses past its ${dst.length - dstStart}-byte bound`);
  return end;
}
