import { describe, expect, it } from 'vitest';
import { SCHEMAS, rabinFingerprint } from '../src/index.js';

describe('Avro fingerprints', () => {
  it('match the Avro specification test vectors (CRC-64-AVRO)', () => {
    expect(rabinFingerprint('"null"').toString(16)).toBe('63dd24e7cc258f8a');
    expect(rabinFingerprint('"int"').toString(16)).toBe('7275d51a3f395c8f');
  });

  it('are distinct per schema and stable across loads', () => {
    const fingerprints = Object.values(SCHEMAS).map((s) => s.fingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });
});
