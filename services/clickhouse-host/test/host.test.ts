import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseHost, type ClickHouseHost } from '../src/index.js';
import { rawRequest, type RawOptions } from './support/raw-http.js';

// One host per test file: chDB binds one data directory per process.
let dir: string;
let host: ClickHouseHost;
let client: ClickHouseClient;

/** The client logs every failed request; the failures here are expected and asserted on. */
const connect = (options: ClickHouseClientConfigOptions = {}) => createClient({ url: host.url, log: { level: ClickHouseLogLevel.OFF }, ...options });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ch-host-test-'));
  host = await startClickHouseHost({ dataDir: dir, port: 0 });
  client = connect({ request_timeout: 120_000 });
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS t' });
});

afterAll(async () => {
  await client?.close();
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const raw = (path: string, options?: RawOptions) => rawRequest(`${host.url}${path}`, options);

async function expectClickHouseError(promise: Promise<unknown>, code: string, type: string): Promise<ClickHouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClickHouseError);
  expect((error as ClickHouseError).code).toBe(code);
  expect((error as ClickHouseError).type).toBe(type);
  return error as ClickHouseError;
}

describe('ClickHouse HTTP host over chDB', () => {
  it('answers ping and GET / like a server', async () => {
    expect(await client.ping()).toEqual({ success: true });
    expect(await client.ping({ select: true })).toEqual({ success: true });
    const root = await raw('/', { method: 'GET' });
    expect(root.status).toBe(200);
    expect(root.body.toString()).toBe('Ok.\n');
    const missing = await raw('/nope', { method: 'GET' });
    expect(missing.status).toBe(404);
  });

  it('creates tables, inserts JSONEachRow and reads back exact totals', async () => {
    await client.command({ query: 'CREATE TABLE t.events (id UInt64, name String, amount Decimal(18, 2)) ENGINE = MergeTree ORDER BY id' });
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i + 1, name: `n${i}`, amount: ((i % 100) + 0.25).toFixed(2) }));
    const inserted = await client.insert({ table: 't.events', values: rows, format: 'JSONEachRow' });
    expect(inserted.executed).toBe(true);
    expect(inserted.summary?.written_rows).toBe('5000');

    const result = await client.query({ query: 'SELECT count() AS n, sum(id) AS ids, toUInt64(sum(amount) * 100) AS cents FROM t.events', format: 'JSONEachRow' });
    const [totals] = await result.json<{ n: number; ids: number; cents: number }>();
    const expectedCents = rows.reduce((acc, r) => acc + Math.round(Number(r.amount) * 100), 0);
    // 26.x no longer quotes 64-bit integers in JSON by default (output_format_json_quote_64bit_integers=0 since 25.8)
    expect(totals).toEqual({ n: 5000, ids: (5000 * 5001) / 2, cents: expectedCents });
    expect(result.response_headers['x-clickhouse-format']).toBe('JSONEachRow');
    expect(result.response_headers['x-clickhouse-timezone']).toBe('UTC');
    expect(result.response_headers['x-clickhouse-query-id']).toBe(result.query_id);

    const streamed: unknown[] = [];
    const rs = await client.query({ query: 'SELECT id, name FROM t.events ORDER BY id LIMIT 3', format: 'JSONCompactEachRow' });
    for await (const batch of rs.stream()) for (const row of batch) streamed.push(row.json());
    expect(streamed).toEqual([
      [1, 'n0'],
      [2, 'n1'],
      [3, 'n2'],
    ]);
  });

  it('treats an insert without rows as a successful no-op', async () => {
    await client.command({ query: 'CREATE TABLE t.empty (x UInt8) ENGINE = MergeTree ORDER BY x' });
    const stream = Readable.from([], { objectMode: true });
    const result = await client.insert({ table: 't.empty', values: stream, format: 'JSONEachRow' });
    expect(result.summary?.written_rows).toBe('0');
    const count = await client.query({ query: 'SELECT count() AS c FROM t.empty', format: 'JSONEachRow' });
    expect(await count.json()).toEqual([{ c: 0 }]);
  });

  it('binds query_params server-side, never by concatenating SQL', async () => {
    const tricky = "it's a 'quote'\nnew line\ttab \\ backslash; DROP TABLE t.events --";
    const result = await client.query({
      query: `SELECT {s:String} AS s, {n:UInt64} AS n, {d:DateTime64(3, 'UTC')} AS d, {a:Array(String)} AS a, length({a:Array(String)}) AS len`,
      query_params: { s: tricky, n: '18446744073709551615', d: new Date('2026-05-01T12:34:56.789Z'), a: ["o'neil", 'two\nlines', 'back\\slash'] },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    expect(await result.json()).toEqual([
      { s: tricky, n: '18446744073709551615', d: '2026-05-01 12:34:56.789', a: ["o'neil", 'two\nlines', 'back\\slash'], len: '3' },
    ]);
    // the table the "injection" names is untouched
    const count = await client.query({ query: 'SELECT count() AS c FROM t.events', format: 'JSONEachRow' });
    expect(await count.json()).toEqual([{ c: 5000 }]);

    // large values go as multipart/form-data
    const big = 'x'.repeat(10_000) + "'";
    const multipart = await client.query({
      query: 'SELECT length({v:String}) AS len, right({v:String}, 2) AS tail',
      query_params: { v: big },
      format: 'JSONEachRow',
      use_multipart_params: true,
    });
    expect(await multipart.json()).toEqual([{ len: 10001, tail: "x'" }]);

    await expectClickHouseError(client.query({ query: 'SELECT {missing:String}', format: 'JSONEachRow' }), '456', 'UNKNOWN_QUERY_PARAMETER');

    // parameters in a statement without output
    await client.command({ query: 'CREATE TABLE t.params (s String) ENGINE = MergeTree ORDER BY s' });
    await client.command({ query: 'INSERT INTO t.params SELECT {s:String}', query_params: { s: tricky } });
    const stored = await client.query({ query: 'SELECT s FROM t.params WHERE s = {s:String}', query_params: { s: tricky }, format: 'JSONEachRow' });
    expect(await stored.json()).toEqual([{ s: tricky }]);
  });

  it('uses the client database option for unqualified names', async () => {
    const scoped = connect({ database: 't' });
    try {
      const rs = await scoped.query({ query: 'SELECT currentDatabase() AS db, count() AS c FROM events', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ db: 't', c: 5000 }]);
      await scoped.insert({ table: 'empty', values: [{ x: 7 }], format: 'JSONEachRow' });
    } finally {
      await scoped.close();
    }
    const rs = await client.query({ query: 'SELECT currentDatabase() AS db, sum(x) AS s FROM t.empty', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ db: 'default', s: 7 }]);
    await expectClickHouseError(
      connect({ database: 'no_such_db' }).query({ query: 'SELECT 1' }),
      '81',
      'UNKNOWN_DATABASE',
    );
  });

  it('applies clickhouse_settings to one request only', async () => {
    const setting = (name: string) =>
      client
        .query({ query: `SELECT getSetting('${name}') AS v`, format: 'JSONEachRow' })
        .then((r) => r.json<{ v: unknown }>())
        .then((rows) => rows[0]!.v);
    const before = await setting('max_threads');
    const withSetting = await client.query({
      query: "SELECT getSetting('max_threads') AS v, getSetting('output_format_json_quote_64bit_integers') AS q, toUInt64(1) AS one",
      format: 'JSONEachRow',
      clickhouse_settings: { max_threads: 3, output_format_json_quote_64bit_integers: 1 },
    });
    expect(await withSetting.json()).toEqual([{ v: 3, q: true, one: '1' }]);
    expect(await setting('max_threads')).toEqual(before);
    expect(before).not.toEqual(3);
    expect(await setting('output_format_json_quote_64bit_integers')).toBe(false);

    // a SET statement ends with its request too
    await client.command({ query: 'SET max_threads = 5' });
    expect(await setting('max_threads')).toEqual(before);

    await expectClickHouseError(client.query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never }), '115', 'UNKNOWN_SETTING');
  });

  it('surfaces errors as ClickHouseError with the code, type and HTTP status of a server', async () => {
    const unknown = await expectClickHouseError(client.query({ query: 'SELECT * FROM t.nope' }), '60', 'UNKNOWN_TABLE');
    expect(unknown.message).toContain('nope');
    // lower case: the client takes the first `(CAPITALS)` in the text for the type, and the message quotes the bad token
    await expectClickHouseError(client.query({ query: 'selec 1' }), '62', 'SYNTAX_ERROR');
    await expectClickHouseError(client.command({ query: 'DROP TABLE t.nope' }), '60', 'UNKNOWN_TABLE');
    await expectClickHouseError(
      client.insert({ table: 't.events', values: [{ id: 'not a number' }], format: 'JSONEachRow' }),
      '27',
      'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
    );
    // a server refuses several statements in one request
    await expectClickHouseError(client.command({ query: 'SELECT 1; DROP TABLE t.events' }), '62', 'SYNTAX_ERROR');
    // and a query that is only an expression (clickhouse-local would accept it)
    await expectClickHouseError(client.command({ query: '1 + 1' }), '62', 'SYNTAX_ERROR');

    const syntax = await raw('/', { body: 'SELEC 1' });
    expect(syntax.status).toBe(400);
    expect(syntax.headers['x-clickhouse-exception-code']).toBe('62');
    const table = await raw('/', { body: 'SELECT * FROM t.nope' });
    expect(table.status).toBe(404);
    expect(table.body.toString()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);
    const other = await raw('/', { body: 'SELECT throwIf(1)' });
    expect(other.status).toBe(500);
    expect(other.headers['x-clickhouse-exception-code']).toBe('395');
  });

  it('reports an error that happens after the output began the way clickhouse-js detects it', async () => {
    const rs = await client.query({
      query: 'SELECT number, throwIf(number = 250000) AS boom FROM system.numbers LIMIT 400000',
      format: 'JSONEachRow',
      clickhouse_settings: { max_block_size: '10000' },
    });
    expect(rs.response_headers['x-clickhouse-exception-tag']).toMatch(/^[A-Za-z0-9]{16}$/);
    let rows = 0;
    const error = await (async () => {
      for await (const batch of rs.stream()) rows += batch.length;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClickHouseError);
    expect((error as ClickHouseError).code).toBe('395');
    expect((error as ClickHouseError).type).toBe('FUNCTION_THROW_IF_VALUE_IS_NON_ZERO');
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(250_000);

    // wait_end_of_query holds the whole result back, so the same failure gets an error status
    await expectClickHouseError(
      client.query({
        query: 'SELECT number, throwIf(number = 250000) AS boom FROM system.numbers LIMIT 400000',
        format: 'JSONEachRow',
        clickhouse_settings: { wait_end_of_query: 1, max_block_size: '10000' },
      }),
      '395',
      'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO',
    );
  });

  it('reads gzip request bodies and compresses responses when asked', async () => {
    const compressed = connect({ compression: { request: true, response: true } });
    try {
      await compressed.command({ query: 'CREATE TABLE t.gz (id UInt32, s String) ENGINE = MergeTree ORDER BY id' });
      const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, s: 'compressible '.repeat(3) }));
      const inserted = await compressed.insert({ table: 't.gz', values: rows, format: 'JSONEachRow' });
      expect(inserted.summary?.written_rows).toBe('20000');
      const rs = await compressed.query({ query: 'SELECT id, s FROM t.gz ORDER BY id', format: 'JSONEachRow' });
      expect(rs.response_headers['content-encoding']).toBe('gzip');
      const back = await rs.json<{ id: number; s: string }>();
      expect(back).toHaveLength(20_000);
      expect(back[19_999]).toEqual({ id: 19_999, s: 'compressible '.repeat(3) });
    } finally {
      await compressed.close();
    }

    // on the wire: gzip in, gzip out only with enable_http_compression=1 and Accept-Encoding
    const body = gzipSync('{"id":100000,"s":"raw"}\n');
    const insert = await raw(`/?query=${encodeURIComponent('INSERT INTO t.gz FORMAT JSONEachRow')}`, { body, headers: { 'Content-Encoding': 'gzip' } });
    expect(insert.status).toBe(200);
    expect(JSON.parse(String(insert.headers['x-clickhouse-summary']))).toMatchObject({ written_rows: '1' });
    const plain = await raw('/?default_format=TSV', { body: 'SELECT s FROM t.gz WHERE id = 100000', headers: { 'Accept-Encoding': 'gzip' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe('raw\n');
    const zipped = await raw('/?enable_http_compression=1&default_format=TSV', { body: 'SELECT s FROM t.gz WHERE id = 100000', headers: { 'Accept-Encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe('raw\n');
  });

  it('takes a 200 000-row insert', async () => {
    await client.command({ query: 'CREATE TABLE t.big (id UInt64, customer String, value Float64, at DateTime64(3)) ENGINE = MergeTree ORDER BY id' });
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: i, customer: `customer-${i % 977}`, value: i / 4, at: '2026-05-01 00:00:00.000' }));
    const started = Date.now();
    const result = await client.insert({ table: 't.big', values: rows, format: 'JSONEachRow' });
    const ms = Date.now() - started;
    expect(result.summary?.written_rows).toBe('200000');
    const rs = await client.query({ query: 'SELECT count() AS c, sum(id) AS s, sum(value) AS v FROM t.big', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ c: 200_000, s: (199_999 * 200_000) / 2, v: (199_999 * 200_000) / 2 / 4 }]);
    console.info(`200 000-row JSONEachRow insert through the host: ${ms} ms`);
  });

  it('runs requests in parallel without mixing their settings', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client
          .query({
            query: "SELECT getSetting('max_block_size') AS b, {i:UInt32} AS i, sleepEachRow(0.01) AS z FROM numbers(5) LIMIT 1",
            query_params: { i },
            clickhouse_settings: { max_block_size: String(1000 + i) },
            format: 'JSONEachRow',
          })
          .then((r) => r.json<{ b: string; i: number }>()),
      ),
    );
    results.forEach((rows, i) => expect(rows[0]).toMatchObject({ b: 1000 + i, i }));

    // like a server, one query_id runs once at a time
    const slow = client.query({ query: 'SELECT sleep(0.5)', query_id: 'same-id', format: 'JSONEachRow' }).then((r) => r.json());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expectClickHouseError(client.query({ query: 'SELECT 1', query_id: 'same-id' }), '216', 'QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING');
    expect(await slow).toEqual([{ 'sleep(0.5)': 0 }]);
  });

  it('keeps session state between requests of one session_id, and nothing else', async () => {
    const session = connect({ session_id: `s-${Date.now()}` });
    try {
      await session.command({ query: 'CREATE TEMPORARY TABLE tmp (x UInt8)' });
      await session.command({ query: 'INSERT INTO tmp VALUES (1), (2)' });
      await session.command({ query: 'SET max_threads = 3' });
      await session.command({ query: 'USE t' });
      const rs = await session.query({ query: "SELECT sum(x) AS s, getSetting('max_threads') AS m, currentDatabase() AS db FROM tmp", format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ s: 3, m: 3, db: 't' }]);
      // per-request settings and database do not stay in the session
      const once = await session.query({ query: "SELECT getSetting('max_threads') AS m", format: 'JSONEachRow', clickhouse_settings: { max_threads: 2 } });
      expect(await once.json()).toEqual([{ m: 2 }]);
      const after = await session.query({ query: "SELECT getSetting('max_threads') AS m, currentDatabase() AS db", format: 'JSONEachRow' });
      expect(await after.json()).toEqual([{ m: 3, db: 't' }]);
    } finally {
      await session.close();
    }
    await expectClickHouseError(client.query({ query: 'SELECT * FROM tmp' }), '60', 'UNKNOWN_TABLE');
  });

  it('stops a streaming query when its client goes away', async () => {
    const marker = `endless_${Date.now()}`;
    const running = () =>
      client
        .query({ query: `SELECT count() AS c FROM system.processes WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.processes%'`, format: 'JSONEachRow' })
        .then((r) => r.json<{ c: number }>())
        .then((rows) => rows[0]!.c);
    const rs = await client.query({ query: `SELECT number AS ${marker} FROM system.numbers`, format: 'JSONEachRow' });
    let rows = 0;
    for await (const batch of rs.stream()) {
      rows += batch.length;
      if (rows > 100_000) break;
    }
    expect(rows).toBeGreaterThan(100_000);
    const deadline = Date.now() + 10_000;
    while ((await running()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await running()).toBe(0);
  });

  it('is read-only over GET, and appends a POST body to the query parameter', async () => {
    const get = await raw(`/?query=${encodeURIComponent('CREATE TABLE t.via_get (x UInt8) ENGINE = Memory')}`, { method: 'GET' });
    expect(get.headers['x-clickhouse-exception-code']).toBe('164');
    const select = await raw(`/?query=${encodeURIComponent('SELECT 40 +')}&default_format=JSONEachRow`, { body: '2 AS answer' });
    expect(select.status).toBe(200);
    expect(select.body.toString()).toBe('{"answer":42}\n');
    expect(select.headers['x-clickhouse-format']).toBe('JSONEachRow');
    expect(JSON.parse(String(select.headers['x-clickhouse-summary']))).toMatchObject({ result_rows: '1', written_rows: '0', elapsed_ns: expect.stringMatching(/^\d+$/) });
  });

  it('keeps data across close and reopen of the same directory, and close() does not wait for endless streams', async () => {
    await client.command({ query: 'CREATE TABLE t.kept (k String) ENGINE = MergeTree ORDER BY k' });
    await client.insert({ table: 't.kept', values: [{ k: 'a' }, { k: 'b' }], format: 'JSONEachRow' });

    const endless = await client.query({ query: 'SELECT number FROM system.numbers', format: 'JSONEachRow' });
    const reader = (async () => {
      for await (const batch of endless.stream()) void batch;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    const started = Date.now();
    await host.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    const streamError = await reader;
    expect(streamError).toBeInstanceOf(ClickHouseError);
    expect((streamError as ClickHouseError).code).toBe('394');
    await client.close();

    host = await startClickHouseHost({ dataDir: dir, port: 0 });
    client = connect();
    const rs = await client.query({ query: 'SELECT groupArray(k) AS ks FROM (SELECT k FROM t.kept ORDER BY k)', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ ks: ['a', 'b'] }]);
    const big = await client.query({ query: 'SELECT count() AS c FROM t.big', format: 'JSONEachRow' });
    expect(await big.json()).toEqual([{ c: 200_000 }]);
  });

  it('refuses a second host in the same process', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ch-host-second-'));
    try {
      await expect(startClickHouseHost({ dataDir: other, port: 0 })).rejects.toThrow(/one data directory/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
