/**
 * The Avro spec's 64-bit Rabin fingerprint (CRC-64-AVRO) of a schema's
 * Parsing Canonical Form: single-object encoded messages name their schema by it.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = (1n << 64n) - 1n;

const TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
  return fp;
});

export function rabinFingerprint(canonical: string): bigint {
  let fp = EMPTY;
  for (const byte of Buffer.from(canonical, 'utf8')) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  return fp;
}

/** The 8 bytes of a fingerprint as single-object encoding writes them (little-endian). */
export function fingerprintBytes(fp: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(fp);
  return bytes;
}
