import { describe, expect, it } from 'vitest';
import type { EventsByName } from '@crm/events';
import { FAULTS, INPUT_NAMES, faultApplies, generateCustomerEvents, malformedVariants } from '../src/index.js';
import { ingestVerdict } from './ingest-verdict.js';

describe('malformedVariants (the builders test/support re-exports)', () => {
  const sample = generateCustomerEvents({ seed: 4, customers: 40, end: new Date('2026-06-30T00:00:00Z') });

  it.each(INPUT_NAMES)('builds every fault that fits a %s event, each rejected with its code', (name) => {
    const MAX_BYTES = 5_000;
    for (const event of (sample[name] as EventsByName[typeof name][]).slice(0, 20)) {
      const variants = malformedVariants(name, event, `${name}-x`, MAX_BYTES);
      const expected = name === 'orders' ? 13 : name === 'surveys' ? 10 : 9;
      expect(variants).toHaveLength(expected);
      expect(new Set(variants.map((v) => v.key)).size).toBe(expected);
      for (const v of variants) {
        expect(v.key.startsWith(`${name}-x:`)).toBe(true);
        expect(ingestVerdict({ topic: name, value: v.value, headers: v.headers }, { maxMessageBytes: MAX_BYTES }), v.key).toBe(v.code);
      }
    }
  });

  it('knows which faults fit which stream', () => {
    expect(Object.keys(FAULTS).filter((f) => faultApplies(f as keyof typeof FAULTS, 'clicks'))).not.toContain('negative_amount');
    expect(faultApplies('score_out_of_scale', 'surveys')).toBe(true);
    expect(faultApplies('score_out_of_scale', 'orders')).toBe(false);
  });
});
