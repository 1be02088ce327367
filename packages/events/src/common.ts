import { z } from 'zod';

/**
 * The instants a `DateTime64(3, 'UTC')` column takes from the epoch-seconds text ingest writes:
 * ClickHouse refuses negative ones and those of 11 integer digits (2286-11-20T17:46:40Z on) with
 * error 41, so an event carrying one would fail its whole insert.
 */
export const STORABLE_INSTANTS = { minMs: 0, maxMs: 10_000_000_000_000 - 1 } as const;

export function isStorableInstant(ms: number): boolean {
  return ms >= STORABLE_INSTANTS.minMs && ms <= STORABLE_INSTANTS.maxMs;
}

/** ISO-8601 with an explicit offset (`Z` or `±hh:mm`), as DESIGN.md requires of JSON events, within the storable range. */
export const ISO_INSTANT_PATTERN = z.regexes.datetime({ offset: true, precision: null, local: false } as Parameters<typeof z.regexes.datetime>[0]);

export const isoInstant = z.iso
  .datetime({ offset: true, message: 'expected an ISO-8601 instant with offset' })
  .refine((text) => isStorableInstant(Date.parse(text)), {
    message: `outside the storable range ${new Date(STORABLE_INSTANTS.minMs).toISOString()} to ${new Date(STORABLE_INSTANTS.maxMs).toISOString()}`,
    params: { reason: 'timestamp_out_of_range' },
  });

/**
 * Text ClickHouse can store: a lone UTF-16 surrogate (JSON's "\ud800") has no UTF-8 form, and
 * ClickHouse refuses the escape with error 25.
 */
// String.prototype.isWellFormed is in every Node we run on; the ES2023 lib we compile against does not declare it.
export const wellFormedText = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
export const WELL_FORMED_MESSAGE = 'not well-formed Unicode (a lone UTF-16 surrogate)';

export const ISO_4217: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code')
  .refine((code) => ISO_4217.has(code), { message: 'unknown ISO 4217 currency', params: { reason: 'unknown_currency' } });
