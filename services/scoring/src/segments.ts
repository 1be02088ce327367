/**
 * The RFM segment grid of DESIGN.md, once: (R, F) ranges → name. The SQL that
 * assigns segments is generated from this table, and tests check it covers
 * every one of the 25 cells exactly once.
 */
export const RFM_SEGMENTS: readonly { name: string; r: readonly number[]; f: readonly number[] }[] = [
  { name: 'champions', r: [5], f: [4, 5] },
  { name: 'loyal_customers', r: [3, 4], f: [4, 5] },
  { name: 'potential_loyalists', r: [4, 5], f: [2, 3] },
  { name: 'new_customers', r: [5], f: [1] },
  { name: 'promising', r: [4], f: [1] },
  { name: 'need_attention', r: [3], f: [3] },
  { name: 'about_to_sleep', r: [3], f: [1, 2] },
  { name: 'at_risk', r: [1, 2], f: [3, 4] },
  { name: 'cant_lose', r: [1, 2], f: [5] },
  { name: 'hibernating', r: [1, 2], f: [1, 2] },
];

export function rfmSegment(r: number, f: number): string | undefined {
  return RFM_SEGMENTS.find((s) => s.r.includes(r) && s.f.includes(f))?.name;
}

/** A multiIf over the columns `r` and `f` naming the segment; '' outside the grid (never, by test). */
export function rfmSegmentSql(r: string, f: string): string {
  const arms = RFM_SEGMENTS.map((s) => `${r} IN (${s.r.join(', ')}) AND ${f} IN (${s.f.join(', ')}), '${s.name}'`);
  return `multiIf(${arms.join(', ')}, '')`;
}

export const LIFECYCLE_STAGES = ['prospect', 'new', 'reactivated', 'churned', 'at_risk', 'active'] as const;
export const VALUE_TIERS = ['lead', 'iron', 'gold', 'platinum'] as const;
