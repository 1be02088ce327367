import { createHash } from 'node:crypto';

/**
 * A name-based UUID: SHA-1 of the parts joined by U+001F, laid out as a
 * version-5 UUID. The same parts always give the same id, so re-sent events
 * and re-imported rows de-duplicate. (The scoring SQL computes the same bytes.)
 */
export function nameBasedUuid(...parts: string[]): string {
  const hash = createHash('sha1').update(parts.join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
