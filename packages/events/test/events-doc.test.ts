import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, SCHEMAS_DIR, type SchemaName } from '../src/index.js';

const guide = readFileSync(join(SCHEMAS_DIR, '../docs/EVENTS.md'), 'utf8');
const samples = [...guide.matchAll(/```(json|hex) ([a-z-]+)\n([\s\S]*?)```/g)].map(([, kind, schema, body]) => ({
  kind: kind as 'json' | 'hex',
  schema: schema as SchemaName,
  body: body!,
}));

describe('docs/EVENTS.md samples', () => {
  it('has a JSON and an Avro sample for each output topic', () => {
    expect(samples.map((s) => `${s.kind} ${s.schema}`).sort()).toEqual([
      'hex customer-at-risk',
      'hex segment-changes',
      'json customer-at-risk',
      'json segment-changes',
    ]);
  });

  for (const schema of ['segment-changes', 'customer-at-risk'] as const) {
    it(`${schema}: the JSON sample is valid and the Avro sample decodes to it, byte for byte`, () => {
      const json = samples.find((s) => s.schema === schema && s.kind === 'json')!;
      const hex = samples.find((s) => s.schema === schema && s.kind === 'hex')!;
      const fromJson = decodeEvent(schema, Buffer.from(json.body), 'application/json');
      if (!fromJson.ok) throw new Error(fromJson.rejection.message);
      const avro = Buffer.from(hex.body.replace(/\s+/g, ''), 'hex');
      const fromAvro = decodeEvent(schema, avro, 'application/avro');
      if (!fromAvro.ok) throw new Error(fromAvro.rejection.message);
      expect(fromAvro.event).toEqual(fromJson.event);
      expect(encodeEvent(schema, fromJson.event as never, 'avro').equals(avro)).toBe(true);
    });
  }
});
