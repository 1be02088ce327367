import type { z } from 'zod';

/**
 * Machine-readable reasons an event is dead-lettered. Subscribers of the
 * dead-letter topic and `crm dlq replay --reason` rely on these codes.
 */
export const REJECTION_CODES = {
  invalid_encoding: 'the bytes are not valid UTF-8 JSON (or not decodable Avro)',
  unsupported_content_type: 'the content-type header names no encoding we accept',
  unknown_schema: 'the Avro fingerprint names no schema accepted on this topic',
  message_too_large: 'the message exceeds the configured size limit',
  missing_field: 'a required field is absent',
  invalid_type: 'a field has the wrong type',
  invalid_value: 'a field has a value outside its rules (format, range)',
  unknown_enum_value: 'a field holds a value outside its enumeration',
  invalid_amount: 'an amount is negative, too precise, or refunded_amount exceeds total',
  unknown_currency: 'the currency is not an ISO 4217 code',
  missing_fx_rate: 'no conversion rate to the reporting currency is configured for the currency',
  timestamp_out_of_range: 'an instant is outside what can be stored (1970 to 2286), or occurred_at is further in the future than the allowed clock skew',
  storage_rejected: 'ClickHouse refused the row (its error code is in the message); nothing else in the batch was held back',
} as const;

export type RejectionCode = keyof typeof REJECTION_CODES;

export interface Rejection {
  code: RejectionCode;
  /** Dotted path of the offending field, empty for the whole message. */
  path: string;
  message: string;
}

/** The first problem zod found, as a rejection a producer can act on. */
export function rejectionFromZod(error: z.ZodError, input: unknown): Rejection {
  const issue = error.issues[0]!;
  const path = issue.path.join('.');
  const explicit = (issue as { params?: { reason?: RejectionCode } }).params?.reason;
  let code: RejectionCode = 'invalid_value';
  if (explicit) code = explicit;
  else if (issue.code === 'invalid_type') code = valueAt(input, issue.path) === undefined ? 'missing_field' : 'invalid_type';
  // Enumerations are the only schema parts that report invalid_value (constants are refinements).
  else if (issue.code === 'invalid_value') code = 'unknown_enum_value';
  return { code, path, message: issue.message };
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
