/**
 * When people shop, in UTC (one shop, one time zone): relative weights by
 * hour of day, day of week and month.
 * - Day: quiet nights (3–5 h at 0.15× the hourly mean), a midday plateau and
 *   an evening peak (20 h at 2.2×); 18–23 h carries 42 % of a day's activity
 *   (25 % if flat).
 * - Week: Saturday and Sunday 1.3× a weekday; 35 % of a week (28.6 % if flat).
 * - Year: November 1.25×, December 1.4×, January 0.85×, the rest about 1.
 */
export const SEASONALITY = {
  /** Hours 0 … 23. */
  hour: [2, 1.2, 0.8, 0.6, 0.6, 0.8, 1.5, 2.5, 3.5, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 5, 5.5, 6.5, 8, 9, 8.5, 6, 3.5],
  /** Sunday … Saturday, as Date.getUTCDay(). */
  weekday: [1.3, 0.95, 0.95, 1, 1, 1.1, 1.35],
  /** January … December. */
  month: [0.85, 0.9, 0.95, 0.95, 1, 0.95, 0.95, 1, 1, 1.05, 1.25, 1.4],
} as const;

const HOUR = 3_600_000;
const DAY = 86_400_000;
const hourTotal = SEASONALITY.hour.reduce((a, b) => a + b, 0);
let cumulative = 0;
const hourCdf = SEASONALITY.hour.map((w) => (cumulative += w / hourTotal));
const dayWeightMax = Math.max(...SEASONALITY.weekday) * Math.max(...SEASONALITY.month);

/** Month (0–11) of a day since 1970-01-01, by the civil-from-days algorithm (no Date per draw). */
function monthOfDay(day: number): number {
  const z = day + 719_468;
  const doe = z - Math.floor(z / 146_097) * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const mp = Math.floor((5 * (doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))) + 2) / 153);
  return mp < 10 ? mp + 2 : mp - 10;
}

/** An hour of the day drawn from the hour-of-day profile. */
function seasonalHour(random: () => number): number {
  const u = random();
  let h = 0;
  while (h < 23 && hourCdf[h]! < u) h++;
  return h;
}

/**
 * An instant in [fromMs, toMs] drawn with the profile of SEASONALITY: a day
 * by weekday and month weight (rejection sampling), then an hour by the
 * hour-of-day profile, then a uniform minute. Windows shorter than a day are
 * drawn uniformly.
 */
export function seasonalInstant(random: () => number, fromMs: number, toMs: number): number {
  const span = toMs - fromMs;
  if (span < DAY) return fromMs + Math.floor(random() * span);
  for (;;) {
    const day = Math.floor((fromMs + random() * span) / DAY);
    const weight = SEASONALITY.weekday[(day + 4) % 7]! * SEASONALITY.month[monthOfDay(day)]!;
    if (random() * dayWeightMax >= weight) continue;
    const t = day * DAY + seasonalHour(random) * HOUR + Math.floor(random() * HOUR);
    if (t >= fromMs && t <= toMs) return t;
  }
}
