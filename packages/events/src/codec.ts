import { earlierSchemaByFingerprint, SCHEMAS, schemaByFingerprint, type EventSchema, type SchemaName } from './registry.js';
import { fromAvroForm, toAvroForm } from './avro-form.js';
import { checkAvroBounds } from './avro-bounds.js';
import { UNDECIDED } from './zod-from-avro.js';
import { rejectionFromZod, type Rejection } from './rejection.js';
import type { EventsByName } from './types.js';

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_AVRO = 'application/avro';

/** Avro single-object encoding: 0xC3 0x01, the schema's 8-byte fingerprint, then the binary datum. */
const MARKER = Buffer.from([0xc3, 0x01]);

export type Encoding = 'json' | 'avro';

export type Decoded<T> = { ok: true; event: T } | { ok: false; rejection: Rejection };

/** One decoder for every message: constructing one per call was a measurable share of decoding. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const fail = (code: Rejection['code'], path: string, message: string) => ({ ok: false as const, rejection: { code, path, message } });

export function encodeEvent<N extends SchemaName>(name: N, event: EventsByName[N], encoding: Encoding): Buffer {
  const schema = SCHEMAS[name];
  if (encoding === 'json') return Buffer.from(JSON.stringify(event));
  return Buffer.concat([MARKER, schema.fingerprintBytes, schema.avro.toBuffer(toAvroForm(schema.source, event))]);
}

export function contentTypeOf(encoding: Encoding): string {
  return encoding === 'json' ? CONTENT_TYPE_JSON : CONTENT_TYPE_AVRO;
}

/** Kafka message headers as kafkajs delivers them. */
export type MessageHeaders = { [key: string]: Buffer | string | (Buffer | string)[] | undefined };

/** The content-type header, without parameters; JSON when absent (the common producer default). */
export function contentTypeHeader(headers: MessageHeaders | undefined): string {
  const raw = headers?.['content-type'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? CONTENT_TYPE_JSON : value.toString().split(';')[0]!.trim().toLowerCase();
}

/**
 * Bytes to a validated event in its JSON form, whichever the encoding: Avro
 * is decoded, converted to the JSON form and checked by the same validator,
 * so both encodings accept exactly the same events.
 */
export function decodeEvent<N extends SchemaName>(name: N, bytes: Buffer, contentType: string): Decoded<EventsByName[N]> {
  const schema = SCHEMAS[name];
  let candidate: unknown;
  if (contentType === CONTENT_TYPE_JSON) {
    try {
      candidate = JSON.parse(UTF8.decode(bytes));
    } catch (error) {
      return fail('invalid_encoding', '', `not UTF-8 JSON: ${(error as Error).message}`);
    }
  } else if (contentType === CONTENT_TYPE_AVRO) {
    const datum = avroDatum(schema, bytes);
    if (!datum.ok) return datum;
    candidate = datum.event;
  } else {
    return fail('unsupported_content_type', '', `content-type ${contentType} is not accepted (use ${CONTENT_TYPE_JSON} or ${CONTENT_TYPE_AVRO})`);
  }
  const accepted = schema.accept(candidate);
  if (accepted !== UNDECIDED) return { ok: true, event: accepted as EventsByName[N] };
  const parsed = schema.json.safeParse(candidate);
  if (!parsed.success) return { ok: false, rejection: rejectionFromZod(parsed.error, candidate) };
  return { ok: true, event: parsed.data as EventsByName[N] };
}

function avroDatum(expected: EventSchema, bytes: Buffer): Decoded<unknown> {
  if (bytes.length < 10 || !bytes.subarray(0, 2).equals(MARKER)) {
    return fail('invalid_encoding', '', 'not Avro single-object encoding (expected marker C3 01 and an 8-byte fingerprint)');
  }
  const fingerprint = bytes.readBigUInt64LE(2);
  const earlier = earlierSchemaByFingerprint(fingerprint);
  const schema = schemaByFingerprint(fingerprint) ?? earlier?.schema;
  if (schema === undefined) return fail('unknown_schema', '', `no schema has fingerprint ${fingerprint.toString(16).padStart(16, '0')}`);
  if (schema !== expected) return fail('unknown_schema', '', `schema ${schema.name} is not accepted on ${expected.topic}`);
  const datum = bytes.subarray(10);
  const unbounded = checkAvroBounds(schema.source, datum);
  if (unbounded !== undefined) return { ok: false, rejection: unbounded };
  try {
    return { ok: true, event: fromAvroForm(schema.source, schema.avro.fromBuffer(datum, earlier?.resolver)) };
  } catch (error) {
    return fail('invalid_encoding', '', `Avro datum does not match ${schema.name}: ${(error as Error).message}`);
  }
}
