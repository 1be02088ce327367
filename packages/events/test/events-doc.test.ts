import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { canonicalForm, decodeEvent, encodeEvent, rabinFingerprint, SCHEMAS_DIR, type SchemaName, type SegmentChangeEvent } from '../src/index.js';
import { fingerprintBytes } from '../src/rabin.js';

const guide = readFileSync(join(SCHEMAS_DIR, '../docs/EVENTS.md'), 'utf8');
// A sample is tagged with its schema and, where a schema has several, a variant: ```json segment-changes recovery
const samples = [...guide.matchAll(/```(json|hex) ([a-z-]+)(?: ([a-z-]+))?\n([\s\S]*?)```/g)].map(([, kind, schema, variant, body]) => ({
  kind: kind as 'json' | 'hex',
  schema: schema as SchemaName,
  variant: variant ?? '',
  body: body!,
}));

describe('docs/EVENTS.md samples', () => {
  it('has a JSON and an Avro sample for each output topic', () => {
    expect(samples.map((s) => `${s.kind} ${s.schema} ${s.variant}`.trim()).sort()).toEqual([
      'hex customer-at-risk',
      'hex customer-erased',
      'hex segment-changes',
      'hex segment-changes recovery',
      'json customer-at-risk',
      'json customer-erased',
      'json segment-changes',
      'json segment-changes recovery',
    ]);
  });

  for (const [schema, variant] of [['segment-changes', ''], ['segment-changes', 'recovery'], ['customer-at-risk', ''], ['customer-erased', '']] as const) {
    it(`${schema} ${variant}: the JSON sample is valid and the Avro sample decodes to it, byte for byte`, () => {
      const json = samples.find((s) => s.schema === schema && s.variant === variant && s.kind === 'json')!;
      const hex = samples.find((s) => s.schema === schema && s.variant === variant && s.kind === 'hex')!;
      const fromJson = decodeEvent(schema, Buffer.from(json.body), 'application/json');
      if (!fromJson.ok) throw new Error(fromJson.rejection.message);
      const avro = Buffer.from(hex.body.replace(/\s+/g, ''), 'hex');
      const fromAvro = decodeEvent(schema, avro, 'application/avro');
      if (!fromAvro.ok) throw new Error(fromAvro.rejection.message);
      expect(fromAvro.event).toEqual(fromJson.event);
      expect(encodeEvent(schema, fromJson.event as never, 'avro').equals(avro)).toBe(true);
    });
  }

  it('a segment change written with the earlier schema (before risk was appended) still decodes, as the same event', () => {
    const json = samples.find((s) => s.schema === 'segment-changes' && s.variant === '' && s.kind === 'json')!;
    const event = JSON.parse(json.body) as SegmentChangeEvent;
    const earlier = avro.Type.forSchema(JSON.parse(readFileSync(join(SCHEMAS_DIR, 'previous/segment-changes.v1.0.avsc'), 'utf8')) as avro.Schema);
    const current = encodeEvent('segment-changes', event, 'avro');
    const written = Buffer.concat([current.subarray(0, 2), fingerprintBytes(rabinFingerprint(canonicalForm(earlier))), earlier.toBuffer(avro.Type.forSchema(JSON.parse(readFileSync(join(SCHEMAS_DIR, 'segment-changes.v1.avsc'), 'utf8')) as avro.Schema).fromBuffer(current.subarray(10)))]);
    expect(written.subarray(2, 10).equals(current.subarray(2, 10))).toBe(false);
    const decoded = decodeEvent('segment-changes', written, 'application/avro');
    if (!decoded.ok) throw new Error(decoded.rejection.message);
    expect(decoded.event).toEqual(event);
  });
});
