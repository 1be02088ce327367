/**
 * CityHash128 as of CityHash 1.0.2, the version ClickHouse froze for the
 * checksums of its native compressed blocks (later CityHash releases hash
 * differently). 64-bit arithmetic is done on BigInt, wrapped to 64 bits.
 */

const M = (1n << 64n) - 1n;
const k0 = 0xc3a5c85c97cb3127n;
const k1 = 0xb492b66fbe98f273n;
const k2 = 0x9ae16a3b2f90404fn;
const k3 = 0xc949d7c7509e6557n;
const kMul = 0x9ddfea08eb382d69n;

const mul = (a: bigint, b: bigint): bigint => BigInt.asUintN(64, a * b);
const add = (a: bigint, b: bigint): bigint => BigInt.asUintN(64, a + b);
const rotate = (v: bigint, shift: bigint): bigint => (shift === 0n ? v : BigInt.asUintN(64, (v >> shift) | (v << (64n - shift))));
const shiftMix = (v: bigint): bigint => v ^ (v >> 47n);

function hashLen16(u: bigint, v: bigint): bigint {
  let a = mul(u ^ v, kMul);
  a ^= a >> 47n;
  let b = mul(v ^ a, kMul);
  b ^= b >> 47n;
  return mul(b, kMul);
}

class Input {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
  u32(at: number): bigint {
    return BigInt(this.view.getUint32(at, true));
  }
}

function hashLen0to16(s: Input, at: number, len: number): bigint {
  const n = BigInt(len);
  if (len > 8) {
    const a = s.u64(at);
    const b = s.u64(at + len - 8);
    return hashLen16(a, rotate(add(b, n), n)) ^ b;
  }
  if (len >= 4) {
    const a = s.u32(at);
    return hashLen16(add(n, (a << 3n) & M), s.u32(at + len - 4));
  }
  if (len > 0) {
    const a = BigInt(s.bytes[at]!);
    const b = BigInt(s.bytes[at + (len >> 1)]!);
    const c = BigInt(s.bytes[at + len - 1]!);
    const y = (a + (b << 8n)) & 0xffffffffn;
    const z = (n + (c << 2n)) & 0xffffffffn;
    return mul(shiftMix(mul(y, k2) ^ mul(z, k3)), k2);
  }
  return k2;
}

function weakHashLen32WithSeeds(s: Input, at: number, a0: bigint, b0: bigint): [bigint, bigint] {
  const w = s.u64(at);
  const x = s.u64(at + 8);
  const y = s.u64(at + 16);
  const z = s.u64(at + 24);
  let a = add(a0, w);
  let b = rotate(add(add(b0, a), z), 21n);
  const c = a;
  a = add(add(a, x), y);
  b = add(b, rotate(a, 44n));
  return [add(a, z), add(b, c)];
}

function cityMurmur(s: Input, at: number, len: number, seedLow: bigint, seedHigh: bigint): [bigint, bigint] {
  let a = seedLow;
  let b = seedHigh;
  let c: bigint;
  let d: bigint;
  let l = len - 16;
  if (l <= 0) {
    a = mul(shiftMix(mul(a, k1)), k1);
    c = add(mul(b, k1), hashLen0to16(s, at, len));
    d = shiftMix(add(a, len >= 8 ? s.u64(at) : c));
  } else {
    c = hashLen16(add(s.u64(at + len - 8), k1), a);
    d = hashLen16(add(b, BigInt(len)), add(c, s.u64(at + len - 16)));
    a = add(a, d);
    do {
      a ^= mul(shiftMix(mul(s.u64(at), k1)), k1);
      a = mul(a, k1);
      b ^= a;
      c ^= mul(shiftMix(mul(s.u64(at + 8), k1)), k1);
      c = mul(c, k1);
      d ^= c;
      at += 16;
      l -= 16;
    } while (l > 0);
  }
  a = hashLen16(a, c);
  b = hashLen16(d, b);
  return [a ^ b, hashLen16(b, a)];
}

function cityHash128WithSeed(s: Input, at: number, len: number, seedLow: bigint, seedHigh: bigint): [bigint, bigint] {
  if (len < 128) return cityMurmur(s, at, len, seedLow, seedHigh);
  let x = seedLow;
  let y = seedHigh;
  let z = mul(BigInt(len), k1);
  let v0 = add(mul(rotate(y ^ k1, 49n), k1), s.u64(at));
  let v1 = add(mul(rotate(v0, 42n), k1), s.u64(at + 8));
  let w0 = add(mul(rotate(add(y, z), 35n), k1), x);
  let w1 = mul(rotate(add(x, s.u64(at + 88)), 53n), k1);
  const round = () => {
    x = mul(rotate(add(add(add(x, y), v0), s.u64(at + 16)), 37n), k1);
    y = mul(rotate(add(add(y, v1), s.u64(at + 48)), 42n), k1);
    x ^= w1;
    y ^= v0;
    z = rotate(z ^ w0, 33n);
    [v0, v1] = weakHashLen32WithSeeds(s, at, mul(v1, k1), add(x, w0));
    [w0, w1] = weakHashLen32WithSeeds(s, at + 32, add(z, w1), y);
    [z, x] = [x, z];
    at += 64;
  };
  do {
    round();
    round();
    len -= 128;
  } while (len >= 128);
  y = add(y, add(mul(rotate(w0, 37n), k0), z));
  x = add(x, mul(rotate(add(v0, z), 49n), k0));
  for (let tailDone = 0; tailDone < len; ) {
    tailDone += 32;
    y = add(mul(rotate((y - x) & M, 42n), k0), v1);
    w0 = add(w0, s.u64(at + len - tailDone + 16));
    x = add(mul(rotate(x, 49n), k0), w0);
    w0 = add(w0, v0);
    [v0, v1] = weakHashLen32WithSeeds(s, at + len - tailDone, v0, v1);
  }
  x = hashLen16(x, v0);
  y = hashLen16(y, w0);
  return [add(hashLen16(add(x, v1), w1), y), hashLen16(add(x, w1), add(y, v1))];
}

/** The 128-bit hash as [low 64 bits, high 64 bits] (CityHash's uint128 first/second). */
export function cityHash128(data: Uint8Array): [bigint, bigint] {
  const s = new Input(data);
  const len = data.length;
  if (len >= 16) return cityHash128WithSeed(s, 16, len - 16, s.u64(0) ^ k3, s.u64(8));
  if (len >= 8) return cityHash128WithSeed(s, 0, 0, s.u64(0) ^ mul(BigInt(len), k0), s.u64(len - 8) ^ k1);
  return cityHash128WithSeed(s, 0, len, k0, k1);
}
