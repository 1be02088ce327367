import { describe, expect, it } from 'vitest';
import type { AvroField, AvroNamed, AvroType } from '../src/avro-schema.js';
import { toAvroForm } from '../src/avro-form.js';
import { SCHEMAS, SCHEMA_NAMES, decodeEvent, encodeEvent, type SchemaName } from '../src/index.js';

/** Seeded so a failure names a sample that can be reproduced. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Random = () => number;
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const uuid = (r: Random) =>
  '00000000-0000-4000-8000-000000000000'.replace(/0/g, () => int(r, 0, 15).toString(16)).replace(/^(.{14})./, '$14');

/** A value that satisfies the schema and its x- rules. */
function validValue(type: AvroType, notes: AvroField | Record<string, never>, r: Random): unknown {
  if (Array.isArray(type)) return r() < 0.3 ? null : validValue(type.find((t) => t !== 'null')!, notes, r);
  const named = typeof type === 'string' ? { type } : type;
  if (named.type === 'record') return Object.fromEntries((named as AvroNamed).fields!.map((f) => [f.name, validValue(f.type, f, r)]));
  if (named.type === 'enum') return named.symbols![int(r, 0, named.symbols!.length - 1)];
  if (named.type === 'array') return Array.from({ length: int(r, 0, 3) }, () => validValue(named.items!, {}, r));
  if (named.logicalType === 'uuid') return uuid(r);
  if (named.logicalType === 'timestamp-millis') return new Date(Date.UTC(2026, 0, 1) - int(r, 0, 1e10)).toISOString();
  if (notes['x-format'] === 'iso4217') return ['USD', 'EUR', 'JPY', 'GBP'][int(r, 0, 3)];
  if (notes['x-const'] !== undefined) return notes['x-const'];
  if (named.type === 'string') return 'abcdefghij'.slice(0, int(r, notes['x-minLength'] ?? 0, Math.min(10, notes['x-maxLength'] ?? 10)));
  const lo = notes['x-min'] ?? 0;
  const hi = Math.min(notes['x-max'] ?? 1000, 1000);
  return named.type === 'double' ? int(r, lo * 100, hi * 100) / 100 : int(r, lo, hi);
}

/** Cross-field rules, applied after drawing each field independently. */
function satisfyRules(name: SchemaName, v: Record<string, unknown>, r: Random): Record<string, unknown> {
  if (name === 'orders') v.refunded_amount = Math.min(v.refunded_amount as number, v.total as number);
  if (name === 'surveys') {
    const scale = v.kind === 'csat' ? [5, 7][int(r, 0, 1)]! : v.kind === 'nps' ? 10 : 7;
    const low = v.kind === 'nps' ? 0 : 1;
    Object.assign(v, { scale_max: scale, score: int(r, low, scale), expectation: v.expectation === null ? null : int(r, low, scale) });
  }
  return v;
}

/** Structural breaks Avro itself can see: a missing required field, a wrong type, an unknown symbol, a null where none is allowed. */
function structuralMutation(schema: AvroNamed, sample: Record<string, unknown>, r: Random): Record<string, unknown> {
  const required = schema.fields!.filter((f) => !Array.isArray(f.type));
  const field = required[int(r, 0, required.length - 1)]!;
  const copy: Record<string, unknown> = structuredClone(sample);
  const kind = int(r, 0, 2);
  if (kind === 0) delete copy[field.name];
  else if (kind === 1) copy[field.name] = null;
  else {
    const t = field.type as AvroNamed | string;
    const enumType = typeof t === 'object' && t.type === 'enum';
    copy[field.name] = enumType ? 'no_such_symbol' : typeof copy[field.name] === 'string' ? 12345 : 'text';
  }
  return copy;
}

/** Does the Avro side accept the value's shape (before our x- rules)? */
function avroAccepts(name: SchemaName, value: unknown): boolean {
  const schema = SCHEMAS[name];
  return schema.avro.isValid(toAvroForm(schema.source, value));
}

describe('JSON validators and Avro types come from one schema and agree', () => {
  for (const name of SCHEMA_NAMES) {
    it(`${name}: 300 valid samples pass both encodings with identical results; 300 structural breaks fail both`, () => {
      const r = seeded(name.length * 7919);
      const schema = SCHEMAS[name];
      for (let i = 0; i < 300; i++) {
        const sample = satisfyRules(name, validValue(schema.source, {}, r) as Record<string, unknown>, r);
        const json = decodeEvent(name, Buffer.from(JSON.stringify(sample)), 'application/json');
        expect(json, JSON.stringify(sample)).toMatchObject({ ok: true });
        expect(avroAccepts(name, sample)).toBe(true);
        const avro = decodeEvent(name, encodeEvent(name, sample as never, 'avro'), 'application/avro');
        // Same event back, instants normalised to UTC.
        expect(avro).toEqual(decodeEvent(name, Buffer.from(JSON.stringify(avro.ok ? avro.event : null)), 'application/json'));
        expect(avro.ok && normalise(avro.event)).toEqual(json.ok && normalise(json.event));

        const broken = structuralMutation(schema.source, sample, r);
        expect(avroAccepts(name, broken), JSON.stringify(broken)).toBe(false);
        expect(schema.json.safeParse(broken).success, JSON.stringify(broken)).toBe(false);
      }
    });
  }

  it('enforces x- rules for both encodings alike (Avro alone would accept them)', () => {
    const order = satisfyRules('orders', validValue(SCHEMAS.orders.source, {}, seeded(1)) as Record<string, unknown>, seeded(2));
    for (const bad of [{ ...order, total: -1 }, { ...order, refunded_amount: (order.total as number) + 1 }, { ...order, currency: 'ABC' }]) {
      expect(avroAccepts('orders', bad)).toBe(true);
      const json = decodeEvent('orders', Buffer.from(JSON.stringify(bad)), 'application/json');
      const avro = decodeEvent('orders', encodeEvent('orders', bad as never, 'avro'), 'application/avro');
      expect(json.ok).toBe(false);
      expect(avro).toEqual(json.ok ? null : { ok: false, rejection: expect.objectContaining({ code: json.rejection.code }) });
    }
  });
});

function normalise(event: unknown): unknown {
  return JSON.parse(JSON.stringify(event), (_, v) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v).toISOString() : v));
}
