import { describe, expect, it } from 'vitest';
import { RFM_SEGMENTS, rfmSegment } from '../src/segments.js';

describe('RFM segment grid', () => {
  it('names every one of the 25 (R, F) cells exactly once', () => {
    for (let r = 1; r <= 5; r++) {
      for (let f = 1; f <= 5; f++) {
        const matches = RFM_SEGMENTS.filter((s) => s.r.includes(r) && s.f.includes(f));
        expect(matches, `cell ${r}${f}`).toHaveLength(1);
      }
    }
  });

  it('follows DESIGN.md cell by cell', () => {
    expect(rfmSegment(5, 4)).toBe('champions');
    expect(rfmSegment(3, 5)).toBe('loyal_customers');
    expect(rfmSegment(4, 3)).toBe('potential_loyalists');
    expect(rfmSegment(5, 1)).toBe('new_customers');
    expect(rfmSegment(4, 1)).toBe('promising');
    expect(rfmSegment(3, 3)).toBe('need_attention');
    expect(rfmSegment(3, 2)).toBe('about_to_sleep');
    expect(rfmSegment(2, 4)).toBe('at_risk');
    expect(rfmSegment(1, 5)).toBe('cant_lose');
    expect(rfmSegment(2, 2)).toBe('hibernating');
  });
});
