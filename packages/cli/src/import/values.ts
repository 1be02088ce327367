/**
 * Reading the values exports hold: instants in the layouts platforms write them,
 * amounts with currency symbols and thousands separators, nested JSON by path.
 */

/** A row as read: CSV gives text per column, NDJSON the parsed object (nested values reachable by dotted path). */
export type SourceRow = Record<string, unknown>;

/** The text at a column (or dotted path into a JSON row); blank and null are absent. */
export function textAt(row: SourceRow, column: string): string | undefined {
  let value: unknown = row[column];
  if (value === undefined && column.includes('.')) {
    value = row;
    for (const key of column.split('.')) value = typeof value === 'object' && value !== null ? (value as SourceRow)[key] : undefined;
  }
  if (value === undefined || value === null || typeof value === 'object') return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

/** The array at a dotted path of a JSON row (WooCommerce's line_items, refunds). */
export function arrayAt(row: SourceRow, path: string): SourceRow[] {
  let value: unknown = row;
  for (const key of path.split('.')) value = typeof value === 'object' && value !== null ? (value as SourceRow)[key] : undefined;
  return Array.isArray(value) ? value.filter((v): v is SourceRow => typeof v === 'object' && v !== null) : [];
}

/** How a file writes calendar dates with slashes; `undefined` refuses them (3/4/2026 is ambiguous). */
export type SlashDates = 'month-first' | 'day-first' | undefined;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * An instant as ISO text in UTC, or undefined when the text is none. Accepted: ISO-8601 with or
 * without offset (Shopify's `2026-03-17 14:22:00 -0500`; none means UTC, as WooCommerce's `*_gmt`),
 * `yyyyMMdd` and `yyyy-MM-dd` (midnight UTC), Magento's `Mar 17, 2026 2:22:00 PM` (UTC), and with
 * `slashes` set, `3/17/2026 14:22` (the Online Retail data set's layout, UTC).
 */
export function parseDate(text: string, slashes?: SlashDates): string | undefined {
  const t = text.trim();
  let m = /^(\d{4})(\d\d)(\d\d)$/.exec(t);
  if (m) return utc(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0);
  m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(t);
  if (m) return utc(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0);
  m = /^([A-Za-z]{3})[a-z]* (\d{1,2}), (\d{4}),? (\d{1,2}):(\d\d)(?::(\d\d))? ?([AaPp][Mm])?$/.exec(t);
  if (m) {
    const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    if (month === 0) return undefined;
    return utc(+m[3]!, month, +m[2]!, hour24(+m[4]!, m[7]), +m[5]!, +(m[6] ?? 0));
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:,? (\d{1,2}):(\d\d)(?::(\d\d))? ?([AaPp][Mm])?)?$/.exec(t);
  if (m) {
    if (slashes === undefined) return undefined;
    const [month, day] = slashes === 'month-first' ? [+m[1]!, +m[2]!] : [+m[2]!, +m[1]!];
    return utc(+m[3]!, month, day, hour24(+(m[4] ?? 0), m[7]), +(m[5] ?? 0), +(m[6] ?? 0));
  }
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(t)) return undefined;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t.replace(' ', 'T')}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function hour24(hour: number, meridiem: string | undefined): number {
  if (meridiem === undefined) return hour;
  const pm = meridiem.toLowerCase() === 'pm';
  return (hour % 12) + (pm ? 12 : 0);
}

/** Date.UTC rolls 2026-02-30 over into March; a date that does not exist is no date. */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): string | undefined {
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return date.toISOString();
}

/**
 * An amount in major units: `29.35`, `-5.00`, `$1,234.50`, `€ 12.00`. Thousands separators must
 * group by three before a decimal point, so `1.234,50` (a decimal comma) is refused rather than
 * misread; undefined when the text is not an amount.
 */
export function parseAmount(text: string): number | undefined {
  const stripped = text.trim().replace(/^([^\d.-]*)(-?)([^\d.-]*)/, '$2').replace(/[^\d.,]+$/, '');
  if (!/^-?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$/.test(stripped) || !/\d/.test(stripped)) return undefined;
  return Number(stripped.replaceAll(',', ''));
}

/** Sums and products of prices in exact ten-thousandths (the schemas allow 4 decimals): 6 × 2.55 is 15.3, not 15.299999999999999. */
export function roundAmount(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/** A whole number, or undefined (`2`, `2.0`, `-3`; not `2.5`). */
export function parseWhole(text: string): number | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : undefined;
}
