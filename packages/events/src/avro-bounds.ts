import type { Annotations, AvroNamed, AvroType } from './avro-schema.js';
import type { Rejection } from './rejection.js';

/**
 * Walks an Avro binary datum along its schema before avsc decodes it, so no
 * length or count in the bytes makes anything allocate: avsc trusts them (an
 * 81-byte order whose items block claims 10^8 entries allocates them, and the
 * process runs out of memory). Each string, bytes and fixed length must fit in
 * the bytes left; each array or map block count must fit too (every entry takes
 * at least its type's smallest encoding) and stay within `x-maxItems`; strings
 * must be valid UTF-8 and within what `x-maxLength` allows. What passes decodes
 * with allocations bounded by the message size.
 */
export function checkAvroBounds(record: AvroNamed, bytes: Uint8Array): Rejection | undefined {
  const walker = new Walker(bytes, namedTypes(record));
  try {
    walker.walk(record, {}, []);
    return undefined;
  } catch (error) {
    if (error instanceof BoundsError) return error.rejection;
    throw error;
  }
}

class BoundsError extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** One UTF-16 unit (zod counts those for x-maxLength) takes at most 3 UTF-8 bytes. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

class Walker {
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly names: ReadonlyMap<string, AvroNamed>,
  ) {}

  walk(type: AvroType, notes: Annotations, path: (string | number)[]): void {
    if (Array.isArray(type)) {
      const branch = this.long(path);
      if (branch < 0 || branch >= type.length) this.fail('invalid_encoding', path, `union branch ${branch} does not exist`);
      return this.walk(type[branch]!, notes, path);
    }
    const named = typeof type === 'string' ? this.names.get(type) : type;
    const kind = named?.type ?? (type as string);
    switch (kind) {
      case 'null':
        return;
      case 'boolean':
        return this.advance(1, path);
      case 'int':
      case 'long':
        this.long(path);
        return;
      case 'float':
        return this.advance(4, path);
      case 'double':
        return this.advance(8, path);
      case 'bytes':
        return this.advance(this.length(path), path);
      case 'string':
        return this.string(notes, path);
      case 'fixed':
        return this.advance((named as AvroNamed & { size: number }).size, path);
      case 'enum': {
        const index = this.long(path);
        if (index < 0 || index >= (named!.symbols?.length ?? 0)) this.fail('invalid_encoding', path, `enum index ${index} does not exist`);
        return;
      }
      case 'record':
        for (const field of named!.fields ?? []) this.walk(field.type, field, [...path, field.name]);
        return;
      case 'array':
        return this.blocks(named!.items!, undefined, notes, path);
      case 'map':
        return this.blocks((named as AvroNamed & { values: AvroType }).values, 'string', notes, path);
      default:
        throw new Error(`avro-bounds: unsupported type ${String(kind)}`);
    }
  }

  /** Array and map blocks: a count (negative: its absolute value, then the block's byte size), then entries; 0 ends. */
  private blocks(items: AvroType, keys: 'string' | undefined, notes: Annotations, path: (string | number)[]): void {
    const limit = notes['x-maxItems'];
    const smallest = this.minSize(items) + (keys === undefined ? 0 : 1);
    let seen = 0;
    for (;;) {
      let count = this.long(path);
      if (count === 0) return;
      if (count < 0) {
        count = -count;
        this.long(path);
      }
      if (limit !== undefined && seen + count > limit) this.fail('invalid_value', path, `at most ${limit} items`);
      if (smallest > 0 && count * smallest > this.remaining()) this.fail('invalid_encoding', path, `a block claims ${count} entries in ${this.remaining()} bytes`);
      // Entries that encode to nothing (null) are bounded by the schema's limit alone; without one they are refused.
      if (smallest === 0 && limit === undefined) this.fail('invalid_encoding', path, 'entries of no size without an x-maxItems limit');
      for (let i = 0; i < count; i++) {
        if (keys !== undefined) this.string({}, [...path, seen + i]);
        this.walk(items, {}, [...path, seen + i]);
      }
      seen += count;
    }
  }

  private string(notes: Annotations, path: (string | number)[]): void {
    const length = this.length(path);
    const max = notes['x-maxLength'];
    if (max !== undefined && length > max * MAX_UTF8_BYTES_PER_UNIT) this.fail('invalid_value', path, `longer than ${max} characters`);
    const start = this.at;
    this.advance(length, path);
    try {
      UTF8.decode(this.bytes.subarray(start, start + length));
    } catch {
      this.fail('invalid_encoding', path, 'string is not valid UTF-8');
    }
  }

  private length(path: (string | number)[]): number {
    const n = this.long(path);
    if (n < 0) this.fail('invalid_encoding', path, `negative length ${n}`);
    if (n > this.remaining()) this.fail('invalid_encoding', path, `a length of ${n} bytes with ${this.remaining()} left`);
    return n;
  }

  /** A zig-zag varint, at most 10 bytes; exact up to 2^53, which is all a length or count can use here. */
  private long(path: (string | number)[]): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.bytes.length) this.fail('invalid_encoding', path, 'truncated: the datum ends inside a number');
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      scale *= 128;
    }
    this.fail('invalid_encoding', path, 'a number longer than 10 bytes');
  }

  private advance(n: number, path: (string | number)[]): void {
    if (n > this.remaining()) this.fail('invalid_encoding', path, `truncated: ${n} bytes needed, ${this.remaining()} left`);
    this.at += n;
  }

  private remaining(): number {
    return this.bytes.length - this.at;
  }

  /** The fewest bytes one value of a type encodes to. */
  private minSize(type: AvroType, depth = 0): number {
    if (depth > 32) return 0;
    if (Array.isArray(type)) return 1;
    const named = typeof type === 'string' ? this.names.get(type) : type;
    const kind = named?.type ?? (type as string);
    if (kind === 'null') return 0;
    if (kind === 'float') return 4;
    if (kind === 'double') return 8;
    if (kind === 'fixed') return (named as AvroNamed & { size: number }).size;
    if (kind === 'record') return (named!.fields ?? []).reduce((n, f) => n + this.minSize(f.type, depth + 1), 0);
    return 1;
  }

  private fail(code: Rejection['code'], path: (string | number)[], message: string): never {
    throw new BoundsError({ code, path: path.join('.'), message });
  }
}

/** Named types (records, enums, fixed) by full and short name, for references by name. */
function namedTypes(record: AvroNamed): Map<string, AvroNamed> {
  const names = new Map<string, AvroNamed>();
  const visit = (type: AvroType, namespace: string | undefined): void => {
    if (typeof type === 'string') return;
    if (Array.isArray(type)) return type.forEach((t) => visit(t, namespace));
    const ns = type.namespace ?? namespace;
    if (type.name !== undefined) {
      names.set(type.name, type);
      if (ns !== undefined) names.set(`${ns}.${type.name}`, type);
    }
    if (type.items !== undefined) visit(type.items, ns);
    const values = (type as { values?: AvroType }).values;
    if (values !== undefined) visit(values, ns);
    for (const field of type.fields ?? []) visit(field.type, ns);
  };
  visit(record, undefined);
  return names;
}
