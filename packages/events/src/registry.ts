import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { z } from 'zod';
import type { AvroNamed } from './avro-schema.js';
import { fingerprintBytes, rabinFingerprint } from './rabin.js';
import { acceptorFromAvro, zodFromAvro, type Acceptor } from './zod-from-avro.js';

export const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../schemas');

export const SCHEMA_NAMES = ['orders', 'clicks', 'tickets', 'surveys', 'segment-changes', 'customer-at-risk', 'customer-erased', 'erasure-requests'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** One event type: its Avro schema (the source), the Avro codec and the JSON validator derived from it. */
export interface EventSchema {
  name: SchemaName;
  /** The contract topic name, e.g. crm.orders.v1. */
  topic: string;
  source: AvroNamed;
  avro: avro.Type;
  json: z.ZodType;
  /** The validator's accept path compiled to plain checks: its output, or UNDECIDED (then `json` decides). */
  accept: Acceptor;
  fingerprint: bigint;
  /** The 8 bytes after the single-object marker. */
  fingerprintBytes: Buffer;
}

function load(name: SchemaName): EventSchema {
  const source = JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.v1.avsc`), 'utf8')) as AvroNamed;
  const type = avro.Type.forSchema(source as avro.Schema);
  const fingerprint = rabinFingerprint(canonicalForm(type));
  return {
    name,
    topic: source['x-topic']!,
    source,
    avro: type,
    json: zodFromAvro(source),
    accept: acceptorFromAvro(source),
    fingerprint,
    fingerprintBytes: fingerprintBytes(fingerprint),
  };
}

/** avsc's schema() without options is the Parsing Canonical Form (attributes stripped, canonical key order). */
export function canonicalForm(type: avro.Type): string {
  return JSON.stringify(type.schema());
}

export const SCHEMAS: Readonly<Record<SchemaName, EventSchema>> = Object.freeze(
  Object.fromEntries(SCHEMA_NAMES.map((name) => [name, load(name)])) as Record<SchemaName, EventSchema>,
);

const BY_FINGERPRINT = new Map(Object.values(SCHEMAS).map((s) => [s.fingerprint, s]));

export function schemaByFingerprint(fingerprint: bigint): EventSchema | undefined {
  return BY_FINGERPRINT.get(fingerprint);
}

/**
 * Earlier versions of a schema (`schemas/previous/<name>.v1.<n>.avsc`), kept
 * so messages written before a compatible change (e.g. an appended enum
 * symbol) still decode: their fingerprint names the writer's schema, and Avro
 * schema resolution reads them as the current one.
 */
export interface EarlierSchema {
  schema: EventSchema;
  resolver: avro.Resolver;
}

const PREVIOUS_DIR = join(SCHEMAS_DIR, 'previous');
const EARLIER = new Map<bigint, EarlierSchema>(
  (existsSync(PREVIOUS_DIR) ? readdirSync(PREVIOUS_DIR) : []).flatMap((file) => {
    const name = SCHEMA_NAMES.find((n) => file.startsWith(`${n}.v1.`) && file.endsWith('.avsc'));
    if (name === undefined) return [];
    const writer = avro.Type.forSchema(JSON.parse(readFileSync(join(PREVIOUS_DIR, file), 'utf8')) as avro.Schema);
    const schema = SCHEMAS[name];
    return [[rabinFingerprint(canonicalForm(writer)), { schema, resolver: schema.avro.createResolver(writer) }] as const];
  }),
);

export function earlierSchemaByFingerprint(fingerprint: bigint): EarlierSchema | undefined {
  return EARLIER.get(fingerprint);
}
