import type { AvroField, AvroNamed, AvroType } from './avro-schema.js';

/**
 * The JSON and Avro forms differ only in instants (ISO-8601 text vs epoch
 * milliseconds) and in optional fields (absent vs null). These walk a value
 * along its schema and convert between the two.
 */
export function toAvroForm(record: AvroNamed, value: unknown): unknown {
  // An instant that is not ISO text has no Avro form: undefined makes the Avro type refuse it.
  return convertRecord(record, value, (iso) => (typeof iso === 'string' ? Date.parse(iso) : undefined));
}

export function fromAvroForm(record: AvroNamed, value: unknown): unknown {
  return convertRecord(record, value, (ms) => (typeof ms === 'number' ? isoText(ms) : ms));
}

/** Epoch milliseconds beyond what a Date holds (±8.64e15) become the extreme instants, which the validator refuses as out of range. */
function isoText(ms: number): string {
  if (Number.isFinite(new Date(ms).getTime())) return new Date(ms).toISOString();
  return ms < 0 ? '0000-01-01T00:00:00.000Z' : '9999-12-31T23:59:59.999Z';
}

type Instant = (value: unknown) => unknown;

function convertRecord(record: AvroNamed, value: unknown, instant: Instant): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of record.fields ?? []) out[field.name] = convertField(field, input[field.name], instant);
  return out;
}

function convertField(field: AvroField, value: unknown, instant: Instant): unknown {
  if (Array.isArray(field.type)) return value === undefined || value === null ? null : convert(field.type.find((t) => t !== 'null')!, value, instant);
  return convert(field.type, value, instant);
}

function convert(type: AvroType, value: unknown, instant: Instant): unknown {
  if (typeof type === 'string' || Array.isArray(type)) return value;
  if (type.logicalType === 'timestamp-millis') return instant(value);
  if (type.type === 'record') return convertRecord(type, value, instant);
  if (type.type === 'array' && Array.isArray(value)) return value.map((v) => convert(type.items!, v, instant));
  return value;
}
