import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SCHEMAS, type SchemaName } from '@crm/events';
import { UNDECIDED } from '../../events/src/zod-from-avro.js';
import { generateLoad } from '../src/index.js';

// Here rather than in packages/events because it needs the generated load (sample-data depends on events).

const JUNK: unknown[] = [
  undefined, null, '', ' ', 'x', 'X'.repeat(5000), '\ud800', 0, -1, 1.5, 0.00001, 2 ** 31, 2 ** 53, -(2 ** 60), true, [], [{}], {}, { a: 1 },
  '2026-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T00:00:00+0100', '2026-01-01T24:00:00Z', '1969-12-31T23:59:59.999Z',
  '2286-11-20T17:46:40Z', '2026-01-01T00:00:00.123456789+05:30', '2026-01-01 00:00:00Z', 'EUR', 'XXX', 'eur', 'ABC',
  '0B7C8D2E-1F4A-4C3B-9D2E-7A6B5C4D3E2F', '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e2', 'page_view', 'paid', 'nps', 'csat',
];

/** The acceptor may only accept what zod accepts, with the same output; UNDECIDED is always allowed. */
function agrees(name: SchemaName, value: unknown): { accepted: boolean; ok: boolean } {
  const schema = SCHEMAS[name];
  const fast = schema.accept(value);
  if (fast === UNDECIDED) return { accepted: false, ok: true };
  const parsed = schema.json.safeParse(value);
  return { accepted: true, ok: parsed.success && isDeepStrictEqual(fast, parsed.data) };
}

describe('the compiled accept path agrees with the zod validator', () => {
  const events: { name: SchemaName; value: Record<string, unknown> }[] = [];
  for (const chunk of generateLoad({ seed: 13, events: 4000, avroShare: 0, malformedShare: 0.2 })) {
    for (const m of chunk.messages) {
      try {
        events.push({ name: m.topic, value: JSON.parse(m.value.toString('utf8')) as Record<string, unknown> });
      } catch {
        // Malformed bytes never reach a validator.
      }
    }
  }

  it('accepts the valid generated events as zod does, and nothing zod refuses', () => {
    let accepted = 0;
    for (const { name, value } of events) {
      const r = agrees(name, value);
      expect(r.ok, JSON.stringify(value)).toBe(true);
      if (r.accepted) accepted++;
    }
    // Nearly every valid event takes the fast path (a fifth of the load is malformed).
    expect(accepted).toBeGreaterThan(events.length * 0.7);
  });

  it('never accepts an event with one field, or one nested field, replaced by junk unless zod accepts the same', () => {
    const samples = events.filter((_, i) => i % 50 === 0);
    for (const { name, value } of samples) {
      const paths: (string | number)[][] = Object.keys(value).map((k) => [k]);
      const items = value.items;
      if (Array.isArray(items) && items.length > 0) for (const k of Object.keys(items[0] as object)) paths.push(['items', 0, k]);
      for (const path of [...paths, ['extra']]) {
        for (const junk of JUNK) {
          const copy = structuredClone(value);
          let at: Record<string | number, unknown> = copy;
          for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
          at[path.at(-1)!] = junk;
          expect(agrees(name, copy).ok, `${name} ${path.join('.')} = ${JSON.stringify(junk)?.slice(0, 40)}`).toBe(true);
        }
      }
    }
  });

  it('refuses what is not an object', () => {
    for (const name of Object.keys(SCHEMAS) as SchemaName[]) for (const v of [null, 1, 'x', [], undefined]) expect(SCHEMAS[name].accept(v)).toBe(UNDECIDED);
  });
});
