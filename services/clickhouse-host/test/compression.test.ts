import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Lz4FrameEncoder } from '@crm/compression';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityHash128 } from '../src/cityhash128.js';
import { NativeBlockDecoder, NativeBlockEncoder, NativeMethod } from '../src/native-compression.js';
import { startClickHouseHost, type ClickHouseHost } from '../src/index.js';
import { OutputBudget } from '@crm/compression';
import { rawRequest } from './support/raw-http.js';

// One host per test file (chDB binds one data directory per process), with a small body limit so a bomb meets it fast.
const MAX_BODY_BYTES = 32 * 1024 * 1024;
let dir: string;
let host: ClickHouseHost;
const raw = (path: string, options: Parameters<typeof rawRequest>[1] = {}) => rawRequest(`${host.url}${path}`, options);
const sql = (query: string) => raw('/', { body: query }).then((r) => r.body.toString().trim());
const insertUrl = (table: string, format: string, extra = '') => `/?query=${encodeURIComponent(`INSERT INTO ${table} FORMAT ${format}`)}${extra}`;

/** The reference tools (zstd, lz4) write the bodies real clients send; without them those cases cannot be checked here. */
const hasTool = (name: string) => spawnSync(name, ['-V'], { stdio: 'ignore' }).status === 0;
const ZSTD_CLI = hasTool('zstd');
const LZ4_CLI = hasTool('lz4');
const tool = (name: string, args: string[], input: Buffer): Buffer => {
  const result = spawnSync(name, args, { input, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return result.stdout;
};
if (!ZSTD_CLI || !LZ4_CLI) console.warn(`compression.test: ${!ZSTD_CLI ? 'zstd ' : ''}${!LZ4_CLI ? 'lz4 ' : ''}command missing (Debian: apt-get install zstd lz4); the cases using it are skipped`);

const ROWS = 100_000;
const csv = Buffer.from(Array.from({ length: ROWS }, (_, i) => `${i},"customer-${i % 977}"\n`).join(''));
const expectedTotals = `${ROWS}\t${(ROWS * (ROWS - 1)) / 2}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ch-host-compression-'));
  host = await startClickHouseHost({ dataDir: dir, port: 0, limits: { maxBodyBytes: MAX_BODY_BYTES } });
  await sql('CREATE DATABASE c');
});

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function freshTable(name: string): Promise<string> {
  await sql(`CREATE TABLE c.${name} (id UInt64, name String) ENGINE = MergeTree ORDER BY id`);
  return `c.${name}`;
}

/** One native block as ClickHouse frames it, for `method` and its already-compressed payload. */
function nativeBlock(method: number, payload: Buffer, size: number): Buffer {
  const block = Buffer.alloc(16 + 9 + payload.length);
  block[16] = method;
  block.writeUInt32LE(9 + payload.length, 17);
  block.writeUInt32LE(size, 21);
  payload.copy(block, 25);
  const [low, high] = cityHash128(block.subarray(16));
  block.writeBigUInt64LE(low, 0);
  block.writeBigUInt64LE(high, 8);
  return block;
}

describe('compression as ClickHouse HTTP interface speaks it', () => {
  it.skipIf(!ZSTD_CLI || !LZ4_CLI)('reads zstd and lz4 request bodies as the reference tools write them: several frames, linked blocks', async () => {
    const halves = [csv.subarray(0, csv.length / 2), csv.subarray(csv.length / 2)];
    for (const [encoding, compress] of [
      ['zstd', (b: Buffer) => tool('zstd', ['-q', '-c'], b)],
      ['lz4', (b: Buffer) => tool('lz4', ['-q', '-c', '-BD', '--content-size'], b)],
    ] as const) {
      const table = await freshTable(`in_${encoding}`);
      // clickhouse-connect compresses every insert block as a frame of its own
      const body = Buffer.concat(halves.map(compress));
      const res = await raw(insertUrl(table, 'CSV'), { body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), headers: { 'Content-Encoding': encoding } });
      expect(res.status, res.body.toString()).toBe(200);
      expect(JSON.parse(String(res.headers['x-clickhouse-summary']))).toMatchObject({ written_rows: String(ROWS) });
      expect(await sql(`SELECT count(), sum(id) FROM ${table}`)).toBe(expectedTotals);
    }
  });

  it.skipIf(!LZ4_CLI)('compresses a response as one lz4 frame when the client offers lz4, as clickhouse-connect does', async () => {
    const table = await freshTable('out_lz4');
    await raw(insertUrl(table, 'CSV'), { body: csv });
    const query = `SELECT id, name FROM ${table} ORDER BY id FORMAT CSV`;
    const plain = await raw('/', { body: query });
    const res = await raw('/?enable_http_compression=1', { body: query, headers: { 'Accept-Encoding': 'lz4, gzip, deflate' } });
    expect(res.headers['content-encoding']).toBe('lz4');
    expect(res.body.length).toBeLessThan(plain.body.length / 2);
    expect(tool('lz4', ['-q', '-d', '-c'], res.body).equals(plain.body)).toBe(true);
    expect(plain.body.equals(csv)).toBe(true);
  });

  it.skipIf(!ZSTD_CLI)('prefers zstd for a response, as ClickHouse does, and writes one frame the zstd tool reads', async () => {
    const query = 'SELECT number, toString(number) FROM numbers(300000) FORMAT CSV';
    const plain = await raw('/', { body: query });
    // clickhouse-connect's offer: ClickHouse picks zstd from it
    const res = await raw('/?enable_http_compression=1&http_zlib_compression_level=3', { body: query, headers: { 'Accept-Encoding': 'lz4,zstd,gzip,deflate' } });
    expect(res.headers['content-encoding']).toBe('zstd');
    expect(res.body.length).toBeLessThan(plain.body.length / 3);
    expect(tool('zstd', ['-q', '-d', '-c'], res.body).equals(plain.body)).toBe(true);
    // one frame: the magic number appears once (the body is far larger than one zstd block)
    expect(res.body.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 1)).toBe(-1);
  });

  it('frames a compress=1 response in checksummed native LZ4 blocks of at most 1 MiB', async () => {
    const query = 'SELECT number, toString(number) FROM numbers(300000) FORMAT RowBinary';
    const plain = await raw('/', { body: query });
    const res = await raw('/?compress=1', { body: query });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    const blocks: number[] = [];
    for (let at = 0; at < res.body.length; at += 16 + res.body.readUInt32LE(at + 17)) {
      expect(res.body[at + 16]).toBe(NativeMethod.LZ4);
      blocks.push(res.body.readUInt32LE(at + 21));
    }
    expect(blocks.length).toBeGreaterThan(1);
    expect(Math.max(...blocks)).toBeLessThanOrEqual(1 << 20);
    const decoded = new NativeBlockDecoder(new OutputBudget(1 << 30, 'test'), true).push(res.body);
    expect(Buffer.concat(decoded).equals(plain.body)).toBe(true);
    // inside an HTTP encoding when both are asked for, as ClickHouse layers them
    const both = await raw('/?compress=1&enable_http_compression=1', { body: query, headers: { 'Accept-Encoding': 'gzip' } });
    expect(both.headers['content-encoding']).toBe('gzip');
    expect(Buffer.concat(new NativeBlockDecoder(new OutputBudget(1 << 30, 'test')).push(zlib.gunzipSync(both.body))).equals(plain.body)).toBe(true);
  });

  it.skipIf(!ZSTD_CLI)('reads decompress=1 bodies of LZ4, ZSTD and uncompressed native blocks, and refuses a bad checksum', async () => {
    const table = await freshTable('native_in');
    const thirds = [csv.subarray(0, 1_000_000), csv.subarray(1_000_000, 1_500_000), csv.subarray(1_500_000)];
    const body = Buffer.concat([
      ...new NativeBlockEncoder().encode(thirds[0]!),
      nativeBlock(NativeMethod.ZSTD, tool('zstd', ['-q', '-c'], thirds[1]!), thirds[1]!.length),
      nativeBlock(NativeMethod.NONE, thirds[2]!, thirds[2]!.length),
    ]);
    const res = await raw(insertUrl(table, 'CSV', '&decompress=1'), { body });
    expect(res.status, res.body.toString()).toBe(200);
    expect(await sql(`SELECT count(), sum(id) FROM ${table}`)).toBe(expectedTotals);

    const corrupt = Buffer.from(body);
    corrupt[40] = corrupt[40]! ^ 0xff;
    const refused = await raw(insertUrl(table, 'CSV', '&decompress=1'), { body: corrupt });
    expect(refused.headers['x-clickhouse-exception-code']).toBe('40');
    expect(refused.body.toString()).toMatch(/CHECKSUM_DOESNT_MATCH/);
  });

  it('stops compression bombs at the body limit with ClickHouse\'s error, and keeps serving', async () => {
    const table = await freshTable('bombs');
    const piece = Buffer.alloc(4 << 20, 0x31);
    const pieces = (4 * MAX_BODY_BYTES) / piece.length; // four times the limit
    // several gzip members and several lz4 blocks in a row are each valid bodies, and quick to make
    const gzip = Buffer.concat(Array.from({ length: pieces }, () => zlib.gzipSync(piece)));
    const lz4Encoder = new Lz4FrameEncoder();
    const [header, ...block] = lz4Encoder.write(piece);
    const lz4 = Buffer.concat([header!, ...Array.from({ length: pieces }, () => block).flat(), ...lz4Encoder.end()]);
    // a zstd frame that claims 1 TiB of content, and a native block that claims 1 GiB: refused before anything is allocated
    const zstdClaim = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0, 0]);
    const nativeClaim = nativeBlock(NativeMethod.NONE, Buffer.alloc(16), 0x3fffffff);
    const bombs: Array<[string, Buffer, Record<string, string>, string]> = [
      ['gzip', gzip, { 'Content-Encoding': 'gzip' }, ''],
      ['lz4', lz4, { 'Content-Encoding': 'lz4' }, ''],
      ['zstd', zstdClaim, { 'Content-Encoding': 'zstd' }, ''],
      ['native', nativeClaim, {}, '&decompress=1'],
    ];
    if (ZSTD_CLI) bombs.push(['zstd stream', tool('zstd', ['-q', '-c', '--no-content-size'], Buffer.alloc(4 * MAX_BODY_BYTES)), { 'Content-Encoding': 'zstd' }, '']);
    for (const [name, body, headers, extra] of bombs) {
      const started = Date.now();
      expect(body.length, name).toBeLessThan(MAX_BODY_BYTES / 8);
      const res = await raw(insertUrl(table, 'CSV', extra), { body, headers });
      expect(res.headers['x-clickhouse-exception-code'], `${name}: ${res.body.toString()}`).toBe('229');
      expect(res.body.toString()).toMatch(/QUERY_IS_TOO_LARGE/);
      console.info(`${name} bomb (${body.length} bytes) refused in ${Date.now() - started} ms`);
    }
    expect(await sql(`SELECT count() FROM ${table}`)).toBe('0');
    expect(await sql('SELECT 1')).toBe('1');
  });

  it('refuses an encoding it does not read with UNKNOWN_COMPRESSION_METHOD', async () => {
    const res = await raw('/', { body: 'SELECT 1', headers: { 'Content-Encoding': 'snappy' } });
    expect(res.headers['x-clickhouse-exception-code']).toBe('89');
    expect(await sql('SELECT 2')).toBe('2');
  });
});
