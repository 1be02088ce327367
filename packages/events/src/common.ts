import { z } from 'zod';

/** ISO-8601 with an explicit offset (`Z` or `±hh:mm`), as DESIGN.md requires of JSON events. */
export const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 instant with offset' });

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code')
  .refine((code) => ISO_4217.has(code), { message: 'unknown ISO 4217 currency', params: { reason: 'unknown_currency' } });
