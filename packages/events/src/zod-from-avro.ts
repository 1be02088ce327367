import { z } from 'zod';
import type { Annotations, AvroField, AvroNamed, AvroType } from './avro-schema.js';
import { currencyCode, ISO_4217, ISO_INSTANT_PATTERN, isoInstant, isStorableInstant, WELL_FORMED_MESSAGE, wellFormedText } from './common.js';
import type { RejectionCode } from './rejection.js';

/**
 * Derives the JSON validator from an Avro schema, so `schemas/*.avsc` is the
 * one source of truth for both encodings. Avro decides the shape (types,
 * enums, optional fields); the `x-` annotations add the rules Avro cannot
 * state (ranges, lengths, formats) and named cross-field rules.
 */
export function zodFromAvro(record: AvroNamed): z.ZodType {
  return compileRecord(record);
}

type Rule = { check: (value: Record<string, unknown>) => boolean; path: string; message: string; reason: RejectionCode };

const RULES: Record<string, Rule[]> = {
  refunded_amount_le_total: [
    {
      check: (o) => (o.refunded_amount as number) <= (o.total as number),
      path: 'refunded_amount',
      message: 'refunded_amount exceeds total',
      reason: 'invalid_amount',
    },
  ],
  survey_scale: [
    {
      check: (o) => validScale(o.kind as string, o.scale_max as number),
      path: 'scale_max',
      message: 'scale_max must be 5 or 7 for csat, 10 for nps, 7 for ces',
      reason: 'invalid_value',
    },
    {
      check: (o) => inScale(o.kind as string, o.scale_max as number, o.score as number),
      path: 'score',
      message: 'score is outside the scale (csat and ces from 1, nps from 0, up to scale_max)',
      reason: 'invalid_value',
    },
    {
      check: (o) => o.expectation === null || inScale(o.kind as string, o.scale_max as number, o.expectation as number),
      path: 'expectation',
      message: 'expectation is outside the scale',
      reason: 'invalid_value',
    },
  ],
};

function validScale(kind: string, scaleMax: number): boolean {
  return kind === 'csat' ? scaleMax === 5 || scaleMax === 7 : kind === 'nps' ? scaleMax === 10 : scaleMax === 7;
}

function inScale(kind: string, scaleMax: number, value: number): boolean {
  return value >= (kind === 'nps' ? 0 : 1) && value <= scaleMax;
}

function compileRecord(record: AvroNamed): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const field of record.fields ?? []) shape[field.name] = compileField(field);
  const rules = (record['x-rules'] ?? []).flatMap((name) => {
    const rule = RULES[name];
    if (!rule) throw new Error(`schema ${record.name}: unknown rule ${name}`);
    return rule;
  });
  let schema: z.ZodType = z.object(shape);
  for (const rule of rules) {
    schema = schema.refine((value) => rule.check(value as Record<string, unknown>), {
      message: rule.message,
      path: [rule.path],
      params: { reason: rule.reason },
    });
  }
  return schema;
}

function compileField(field: AvroField): z.ZodType {
  const type = field.type;
  if (Array.isArray(type)) {
    const branches = type.filter((t) => t !== 'null');
    if (branches.length !== 1 || type.length !== 2) throw new Error(`field ${field.name}: only ["null", T] unions are supported`);
    // Optional in JSON: absent and null both mean "not given"; the canonical form is null.
    return compileType(branches[0]!, field).nullish().transform((v) => v ?? null);
  }
  return compileType(type, field);
}

function compileType(type: AvroType, notes: Annotations): z.ZodType {
  if (typeof type === 'string') return compilePrimitive(type, undefined, notes);
  if (Array.isArray(type)) throw new Error('nested unions are not supported');
  switch (type.type) {
    case 'record':
      return compileRecord(type);
    case 'enum':
      return z.enum(type.symbols as [string, ...string[]]);
    case 'array': {
      const items = z.array(compileType(type.items!, {}));
      return notes['x-maxItems'] === undefined ? items : items.max(notes['x-maxItems'], `at most ${notes['x-maxItems']} items`);
    }
    default:
      return compilePrimitive(type.type, type.logicalType, notes);
  }
}

function compilePrimitive(type: string, logicalType: string | undefined, notes: Annotations): z.ZodType {
  if (type === 'string') {
    // Any canonical 8-4-4-4-12 hex text, as ClickHouse's UUID type takes it (RFC version bits not required).
    if (logicalType === 'uuid') return z.guid({ message: 'expected a UUID (8-4-4-4-12 hex digits)' });
    if (notes['x-format'] === 'iso4217') return currencyCode;
    let s = z.string().refine(wellFormedText, WELL_FORMED_MESSAGE);
    if (notes['x-minLength'] !== undefined) s = s.min(notes['x-minLength'], notes['x-minLength'] === 1 ? 'must not be empty' : `shorter than ${notes['x-minLength']}`);
    if (notes['x-maxLength'] !== undefined) s = s.max(notes['x-maxLength'], `longer than ${notes['x-maxLength']} characters`);
    return s;
  }
  if (type === 'long' && logicalType === 'timestamp-millis') return isoInstant;
  if (type === 'int' || type === 'long' || type === 'double' || type === 'float') {
    if (notes['x-const'] !== undefined) {
      const constant = notes['x-const'];
      return z.number({ message: 'expected a number' }).refine((n) => n === constant, { message: `must be ${constant}`, params: { reason: 'invalid_value' } });
    }
    return numberWithRules(type, notes);
  }
  if (type === 'boolean') return z.boolean();
  throw new Error(`unsupported Avro type ${type}`);
}

function numberWithRules(type: string, notes: Annotations): z.ZodType {
  const reason = (notes['x-rejection'] ?? 'invalid_value') as RejectionCode;
  const rule = (check: (n: number) => boolean, message: string) => ({ check, message });
  const rules = [
    type === 'int' ? rule((n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 - 1, 'expected a 32-bit integer') : undefined,
    type === 'long' ? rule((n) => Number.isSafeInteger(n), 'expected an integer') : undefined,
    notes['x-min'] === undefined ? undefined : rule((n) => n >= notes['x-min']!, notes['x-min'] === 0 ? 'must not be negative' : `must be at least ${notes['x-min']}`),
    notes['x-max'] === undefined ? undefined : rule((n) => n <= notes['x-max']!, `must be at most ${notes['x-max']}`),
    notes['x-maxDecimals'] === undefined
      ? undefined
      : rule((n) => Number(n.toFixed(notes['x-maxDecimals'])) === n, `more than ${notes['x-maxDecimals']} decimal places`),
  ].filter((r) => r !== undefined);
  let schema: z.ZodType<number> = z.number({ message: 'expected a number' }).finite();
  for (const r of rules) {
    // An integer-type violation is a type problem; range and precision follow the field's rejection code.
    const code = r.message.startsWith('expected') ? 'invalid_type' : reason;
    schema = schema.refine(r.check, { message: r.message, params: { reason: code } });
  }
  return schema;
}

/** What an acceptor returns for a value it does not accept by itself. */
export const UNDECIDED: unique symbol = Symbol('undecided');
export type Acceptor = (value: unknown) => unknown;

/**
 * The accept path of the validator above, compiled to plain checks from the same schema and
 * rules: the value in the validator's output form (unknown keys dropped, absent optionals null)
 * when every rule holds, UNDECIDED otherwise — and then the zod validator decides and says why.
 * It may only accept what the validator accepts, with the same output (a test compares them on
 * generated and mutated events); zod's generic parse was ~15 % of decoding in a profile, plus garbage.
 */
export function acceptorFromAvro(record: AvroNamed): Acceptor {
  return acceptRecord(record);
}

const GUID = z.regexes.guid;
const CURRENCY = /^[A-Z]{3}$/;

function acceptRecord(record: AvroNamed): Acceptor {
  const fields = (record.fields ?? []).map((f) => [f.name, acceptField(f)] as const);
  const rules = (record['x-rules'] ?? []).flatMap((name) => RULES[name] ?? []);
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return UNDECIDED;
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, accept] of fields) {
      const v = accept(input[name]);
      if (v === UNDECIDED) return UNDECIDED;
      out[name] = v;
    }
    for (const rule of rules) if (!rule.check(out)) return UNDECIDED;
    return out;
  };
}

function acceptField(field: AvroField): Acceptor {
  const type = field.type;
  if (Array.isArray(type)) {
    const inner = acceptType(type.find((t) => t !== 'null')!, field);
    return (v) => (v === undefined || v === null ? null : inner(v));
  }
  return acceptType(type, field);
}

function acceptType(type: AvroType, notes: Annotations): Acceptor {
  if (typeof type === 'string') return acceptPrimitive(type, undefined, notes);
  if (Array.isArray(type)) throw new Error('nested unions are not supported');
  switch (type.type) {
    case 'record':
      return acceptRecord(type);
    case 'enum': {
      const symbols = new Set(type.symbols);
      return (v) => (typeof v === 'string' && symbols.has(v) ? v : UNDECIDED);
    }
    case 'array': {
      const item = acceptType(type.items!, {});
      const max = notes['x-maxItems'] ?? Infinity;
      return (v) => {
        if (!Array.isArray(v) || v.length > max) return UNDECIDED;
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = item(v[i]);
          if (x === UNDECIDED) return UNDECIDED;
          out[i] = x;
        }
        return out;
      };
    }
    default:
      return acceptPrimitive(type.type, type.logicalType, notes);
  }
}

function acceptPrimitive(type: string, logicalType: string | undefined, notes: Annotations): Acceptor {
  if (type === 'string') {
    if (logicalType === 'uuid') return (v) => (typeof v === 'string' && GUID.test(v) ? v : UNDECIDED);
    if (notes['x-format'] === 'iso4217') return (v) => (typeof v === 'string' && CURRENCY.test(v) && ISO_4217.has(v) ? v : UNDECIDED);
    const min = notes['x-minLength'] ?? 0;
    const max = notes['x-maxLength'] ?? Infinity;
    return (v) => (typeof v === 'string' && v.length >= min && v.length <= max && wellFormedText(v) ? v : UNDECIDED);
  }
  if (type === 'long' && logicalType === 'timestamp-millis') {
    return (v) => (typeof v === 'string' && ISO_INSTANT_PATTERN.test(v) && isStorableInstant(Date.parse(v)) ? v : UNDECIDED);
  }
  if (type === 'int' || type === 'long' || type === 'double' || type === 'float') {
    const constant = notes['x-const'];
    if (constant !== undefined) return (v) => (v === constant ? v : UNDECIDED);
    const checks: ((n: number) => boolean)[] = [];
    if (type === 'int') checks.push((n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 - 1);
    if (type === 'long') checks.push((n) => Number.isSafeInteger(n));
    const min = notes['x-min'];
    const max = notes['x-max'];
    const decimals = notes['x-maxDecimals'];
    if (min !== undefined) checks.push((n) => n >= min);
    if (max !== undefined) checks.push((n) => n <= max);
    if (decimals !== undefined) checks.push((n) => Number(n.toFixed(decimals)) === n);
    return (v) => (typeof v === 'number' && Number.isFinite(v) && checks.every((c) => c(v)) ? v : UNDECIDED);
  }
  if (type === 'boolean') return (v) => (typeof v === 'boolean' ? v : UNDECIDED);
  throw new Error(`unsupported Avro type ${type}`);
}
