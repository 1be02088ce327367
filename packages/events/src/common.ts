import { z } from 'zod';

/** ISO-8601 with an explicit offset (`Z` or `±hh:mm`), as DESIGN.md requires of JSON events. */
export const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 instant with offset' });

export const eventEnvelope = {
  event_id: z.uuid({ message: 'expected a UUID' }),
  occurred_at: isoInstant,
  schema_version: z.literal(1, { message: 'schema_version must be 1' }),
};

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code')
  .refine((code) => ISO_4217.has(code), { message: 'unknown ISO 4217 currency', params: { reason: 'unknown_currency' } });

/** Major units with at most 4 decimals, so the amount is stored exactly (Decimal(18, 4)). */
export const amount = z
  .number({ message: 'expected a number' })
  .finite()
  .min(0, { message: 'must not be negative' })
  .max(1e13, { message: 'too large' })
  .refine((n) => Number(n.toFixed(4)) === n, { message: 'more than 4 decimal places' });

export const nonEmpty = z.string().min(1, 'must not be empty').max(256, 'longer than 256 characters');
