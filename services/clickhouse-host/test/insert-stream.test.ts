import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseHost, type ClickHouseHost } from '../src/index.js';
import { BodySpool, insertPlan, receiveBody } from '../src/insert-stream.js';
import { rawRequest } from './support/raw-http.js';

// One host per test file: chDB binds one data directory per process.
let dir: string;
let host: ClickHouseHost;
const raw = (path: string, options: Parameters<typeof rawRequest>[1] = {}) => rawRequest(`${host.url}${path}`, options);
const sql = async (query: string) => {
  const res = await raw('/', { body: query });
  if (res.status !== 200) throw new Error(res.body.toString());
  return res.body;
};

const ROWS = 200_000;
const SOURCE = `SELECT number AS id, concat('customer-', toString(number % 977)) AS name, number / 4 AS amount FROM numbers(${ROWS})`;
const COLUMNS = 'id UInt64, name String, amount Float64';

/** A body as a client streams it: in pieces of 64 KiB, never one buffer. */
const pieces = (body: Buffer) => Readable.from((function* () {
  for (let at = 0; at < body.length; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
})());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ch-host-insert-stream-'));
  host = await startClickHouseHost({ dataDir: dir, port: 0 });
  await sql('CREATE DATABASE s');
  await sql(`CREATE TABLE s.expected ENGINE = MergeTree ORDER BY id AS ${SOURCE}`);
});

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function totals(table: string): Promise<string> {
  return (await sql(`SELECT count(), sum(id), sum(amount), sum(length(name)) FROM ${table} FORMAT TSV`)).toString();
}

describe('inserts read as a stream', () => {
  // The engine's own encoders write each body, so the rows are exactly what clients of that format send.
  it.each(['Native', 'RowBinary', 'Parquet', 'Arrow', 'ArrowStream', 'CSV', 'TSVWithNames', 'JSONEachRow', 'Values'])(
    'takes a %s body of 200 000 rows whole',
    async (format) => {
      const body = await sql(`${SOURCE} FORMAT ${format}`);
      const table = `s.t_${format.toLowerCase()}`;
      await sql(`CREATE TABLE ${table} (${COLUMNS}) ENGINE = MergeTree ORDER BY id`);
      const res = await raw(`/?query=${encodeURIComponent(`INSERT INTO ${table} FORMAT ${format}`)}`, { body: pieces(body) });
      expect(res.status, res.body.toString()).toBe(200);
      expect(JSON.parse(String(res.headers['x-clickhouse-summary']))).toMatchObject({ written_rows: String(ROWS) });
      expect(await totals(table)).toBe(await totals('s.expected'));
    },
  );

  it('takes the INSERT header and a binary body in one POST body, as clickhouse-connect sends an uncompressed raw insert', async () => {
    const native = await sql(`${SOURCE} FORMAT Native`);
    await sql(`CREATE TABLE s.in_body (${COLUMNS}) ENGINE = MergeTree ORDER BY id`);
    const res = await raw('/', { body: pieces(Buffer.concat([Buffer.from('INSERT INTO s.in_body (id, name, amount) FORMAT Native\n'), native])) });
    expect(res.status, res.body.toString()).toBe(200);
    expect(await totals('s.in_body')).toBe(await totals('s.expected'));
  });

  it('keeps memory flat for a body far larger than the chunks it arrives in, and leaves no spool file behind', async () => {
    await sql('CREATE TABLE s.large (id UInt64, name String) ENGINE = MergeTree ORDER BY id');
    const rows = 2_000_000;
    const rowsPerPiece = 10_000;
    let sent = 0;
    const body = Readable.from((function* () {
      for (let start = 0; start < rows; start += rowsPerPiece) {
        const piece = Buffer.from(Array.from({ length: rowsPerPiece }, (_, i) => `${start + i},"padding-padding-padding-${start + i}"\n`).join(''));
        sent += piece.length;
        yield piece;
      }
    })());
    // Live buffers, not garbage: on a loaded machine (CI) collection lags, and pieces already
    // spooled but not yet collected counted as held (35 MiB once, against 3–11 MiB on a quiet one).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      const now = process.memoryUsage();
      // Buffers live outside the JS heap, in arrayBuffers: a body held whole would show there
      peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers);
    }, 10);
    try {
      const res = await raw(`/?query=${encodeURIComponent('INSERT INTO s.large SETTINGS max_insert_block_size = 100000 FORMAT CSV')}`, { body });
      expect(res.status, res.body.toString()).toBe(200);
    } finally {
      clearInterval(sampler);
    }
    expect(sent).toBeGreaterThan(64 * 1024 * 1024);
    expect((await sql('SELECT count(), sum(id) FROM s.large FORMAT TSV')).toString()).toBe(`${rows}\t${(rows * (rows - 1)) / 2}\n`);
    // the body never sits in memory whole: what grows is a few pieces in flight
    console.info(`${(sent / 2 ** 20).toFixed(0)} MiB CSV body inserted; buffer memory grew by at most ${(peak / 2 ** 20).toFixed(1)} MiB`);
    expect(peak).toBeLessThan(sent / 3);
    expect(readdirSync(join(dir, 'http-bodies'))).toEqual([]);
  });

  it('plans FROM INFILE around the parts of an INSERT header', () => {
    const plan = (text: string) => {
      const p = insertPlan(Buffer.from(text));
      return p && `${p.before}'f'${p.after}`;
    };
    expect(plan('INSERT INTO t (a, b) SETTINGS async_insert = 0 FORMAT CSV')).toBe("INSERT INTO t (a, b) FROM INFILE 'f' COMPRESSION 'none' SETTINGS async_insert = 0 FORMAT CSV");
    expect(plan('insert into `format` FORMAT TSV')).toBe("insert into `format` FROM INFILE 'f' COMPRESSION 'none' FORMAT TSV");
    // Values rows are expressions the sandbox must read (they may call file()): taken in memory
    expect(plan('insert into `format` values')).toBeUndefined();
    expect(plan('INSERT INTO FUNCTION file(\'x.csv\') FORMAT CSV')).toBe("INSERT INTO FUNCTION file('x.csv') FROM INFILE 'f' COMPRESSION 'none' FORMAT CSV");
    // data read through a SELECT (input()) cannot come from a file this way; it is taken in memory
    expect(plan("INSERT INTO t SELECT * FROM input('a UInt8') FORMAT CSV")).toBeUndefined();
    expect(plan('SELECT 1')).toBeUndefined();
  });

  it('keeps a small text-format insert in memory, exact, and spools binary or large ones', async () => {
    const spool = await BodySpool.open(mkdtempSync(join(tmpdir(), 'ch-host-spool-')));
    const received = (url: string, body: Buffer) => receiveBody(pieces(body), { method: 'POST', url, contentType: undefined }, spool);
    const rows = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `{"id":${i},"name":"é😀\\u0000${i}","amount":${i / 4}}\n`).join(''));
    const small = await received(`/?query=${encodeURIComponent('INSERT INTO t FORMAT JSONEachRow')}`, rows(50));
    expect(small.spooled).toBeUndefined();
    expect(small.body.equals(rows(50))).toBe(true);
    expect((await received('/', Buffer.concat([Buffer.from('INSERT INTO t FORMAT JSONEachRow\n'), rows(50)]))).spooled).toBeUndefined();
    const large = await received(`/?query=${encodeURIComponent('INSERT INTO t FORMAT JSONEachRow')}`, rows(20_000));
    expect(large.spooled?.bytes).toBe(rows(20_000).length);
    await spool.remove(large.spooled);
    const native = await received(`/?query=${encodeURIComponent('INSERT INTO t FORMAT Native')}`, await sql(`${SOURCE} LIMIT 10 FORMAT Native`));
    expect(native.spooled).toBeDefined();
    await spool.remove(native.spooled);

    // Through the host, in each in-memory format, with data in the query too: every row, exactly.
    const expected = await totals('(SELECT * FROM s.expected LIMIT 1000)');
    for (const format of ['JSONEachRow', 'JSONCompactEachRow', 'TabSeparated', 'TSV', 'CSV']) {
      const body = await sql(`SELECT * FROM s.expected ORDER BY id LIMIT 1000 FORMAT ${format}`);
      const lines = body.toString().split('\n');
      const table = `s.small_${format.toLowerCase()}`;
      await sql(`CREATE TABLE ${table} (${COLUMNS}) ENGINE = MergeTree ORDER BY id`);
      const res = await raw(`/?query=${encodeURIComponent(`INSERT INTO ${table} FORMAT ${format} ${lines[0]}`)}`, { body: pieces(Buffer.from(lines.slice(1).join('\n'))) });
      expect(res.status, res.body.toString()).toBe(200);
      expect(JSON.parse(String(res.headers['x-clickhouse-summary']))).toMatchObject({ written_rows: '1000' });
      expect(await totals(table)).toBe(expected);
    }
  });
});
