import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChdbEngine, type NativeConnection } from '../src/chdb-engine.js';
import { substituteParameters } from '../src/query-parameters.js';

/**
 * Substitution must mean what binding means: every case runs on the engine
 * twice, once with the parameter bound natively (the server's own reading)
 * and once substituted, and both answers (or both refusals) must agree.
 * Values are written as clients send them: TSV-escaped text, arrays and
 * tuples in their quoted form (as @clickhouse/client and clickhouse-connect do).
 */

let dir: string;
let engine: ChdbEngine;
let connection: NativeConnection;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-params-'));
  engine = ChdbEngine.open(dir);
  connection = engine.connect();
});
afterAll(() => {
  engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function answer(sql: string, params?: Record<string, string>): Promise<{ ok: string } | { error: string }> {
  try {
    const result = await engine.native.QueryAsyncConnection(connection, sql, 'JSONEachRow', params);
    return { ok: result.bytes.toString('utf8') };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]!.replace(/\(version .*$/, '') };
  }
}

const CASES: [type: string, value: string][] = [
  ['String', 'plain'],
  ['String', "it\\'s"],
  ['String', 'back\\\\slash'],
  ['String', 'tab\\tnew\\nline\\rcr'],
  ['String', 'ünïcødé 🎉 \u200b \u0301e'],
  ['String', ''],
  ['String', '{x:String} -- not a comment /* nor this */'],
  ['String', "quote\\'\\\\\\'mix"],
  ['String', 'a\\0b'],
  ['LowCardinality(String)', 'tier'],
  ['Nullable(String)', '\\N'],
  ['Nullable(String)', 'x'],
  ['UInt8', '0'],
  ['UInt8', '255'],
  ['UInt8', '256'],
  ['UInt8', 'abc'],
  ['UInt32', '4294967295'],
  ['UInt64', '18446744073709551615'],
  ['Int64', '-9223372036854775808'],
  ['Float64', '1.5'],
  ['Float64', '-0'],
  ['Float64', '1e-300'],
  ['Float64', 'nan'],
  ['Float64', '+inf'],
  ['Bool', '1'],
  ['Bool', '0'],
  ['Bool', 'true'],
  ['DateTime64(3, \'UTC\')', '1796230859.735'],
  ['DateTime64(3, \'UTC\')', '1796230859'],
  ['DateTime64(3, \'UTC\')', '2026-06-30 00:00:00.000'],
  ['DateTime64(3, \'UTC\')', '2026-06-30 12:34:56.789'],
  ['DateTime64(3, \'UTC\')', 'not a time'],
  ['Nullable(DateTime64(3, \'UTC\'))', '\\N'],
  ['Nullable(DateTime64(3, \'UTC\'))', '1796230859.735'],
  ['DateTime(\'UTC\')', '1796230859'],
  ['DateTime', '2026-06-30 00:00:00'],
  ['Date', '2026-06-30'],
  ['Decimal(38, 4)', '12.3456'],
  ['Decimal(38, 4)', '-0.00005'],
  ['UUID', '61f0c404-5cb3-11e7-907b-a6006ad3dba0'],
  ['Array(String)', "['a','it\\'s','x\\\\y','tab\\t','']"],
  ['Array(String)', '[]'],
  ['Array(UInt32)', '[1,2,3]'],
  ['Array(DateTime64(3, \'UTC\'))', "['2026-01-01 00:00:00.000','2026-01-01 00:00:00.001']"],
  ['Array(Nullable(String))', "['a',NULL]"],
  ['Tuple(String, UInt8)', "('x',7)"],
  ['Map(String, UInt32)', "{'a':1,'b':2}"],
];

describe('substituted query parameters mean what bound ones mean', () => {
  it.each(CASES)('%s = %s', async (type, value) => {
    const sql = `SELECT {p:${type}} AS v, toTypeName(v) AS t`;
    const substituted = substituteParameters(sql, { p: value });
    const bound = await answer(sql, { p: value });
    if (substituted === undefined) return; // bound as before: nothing to compare
    const direct = await answer(substituted);
    if ('ok' in bound) expect(direct).toEqual(bound);
    else expect(direct).toHaveProperty('error');
  });

  it('substitutes the statements this pipeline sends, with the same results', async () => {
    await answer('CREATE TABLE t (at DateTime64(3, \'UTC\'), id String) ENGINE = MergeTree ORDER BY at');
    await answer("INSERT INTO t VALUES ('2026-01-01 00:00:00.000', 'a'), ('2026-01-02 00:00:00.000', 'b'), ('2026-01-03 00:00:00.000', 'c')");
    const statements: [string, Record<string, string>][] = [
      ["SELECT id FROM t WHERE at IN {marks:Array(DateTime64(3, 'UTC'))} ORDER BY id LIMIT {limit:UInt32}", { marks: "['2026-01-01 00:00:00.000','2026-01-03 00:00:00.000']", limit: '1' }],
      ["SELECT now64(3) + toIntervalMillisecond({ttl:UInt32}) > now64(3) AS later", { ttl: '30000' }],
      ["SELECT count() AS n FROM t WHERE (at, id) > ({at:DateTime64(3, 'UTC')}, {id:String})", { at: '1767225600.000', id: 'a' }],
      ["SELECT {a:String} AS a, '{a:String}' AS literal -- {a:String}\n, /* {a:String} /* nested */ */ 1 AS one", { a: 'x' }],
    ];
    for (const [sql, params] of statements) {
      const substituted = substituteParameters(sql, params);
      expect(substituted, sql).toBeDefined();
      expect(await answer(substituted!)).toEqual(await answer(sql, params));
    }
    // A parameterised view's argument.
    await answer("CREATE VIEW upto AS SELECT count() AS n FROM t WHERE at <= {as_of:DateTime64(3, 'UTC')}");
    const view = "SELECT n FROM upto(as_of = {as_of:DateTime64(3, 'UTC')})";
    const substituted = await answer(substituteParameters(view, { as_of: '1767312000.000' })!);
    expect(substituted).toEqual(await answer(view, { as_of: '1767312000.000' }));
    expect(JSON.parse((substituted as { ok: string }).ok)).toEqual({ n: 2 });
  });
});

describe('what is substituted, and what is left to binding', () => {
  it('leaves strings, quoted names, comments and other braces alone', () => {
    expect(substituteParameters("SELECT '{a:String}', `{a:String}`, \"{a:String}\", {'k': 1}, {a:String}", { a: "it\\'s" })).toBe(
      "SELECT '{a:String}', `{a:String}`, \"{a:String}\", {'k': 1}, 'it\\'s'",
    );
    expect(substituteParameters("SELECT 'it''s {a:UInt8}', {a:UInt8}", { a: '1' })).toBe("SELECT 'it''s {a:UInt8}', _CAST('1', 'UInt8')");
    expect(substituteParameters("SELECT {t : DateTime64(3, 'UTC')}", { t: '1.5' })).toBe("SELECT _CAST('1.5', 'DateTime64(3, \\'UTC\\')')");
    expect(substituteParameters('SELECT 1', { unused: 'x' })).toBe('SELECT 1');
  });

  it('binds as before what it cannot substitute exactly', () => {
    expect(substituteParameters('SELECT {a:String}', {})).toBeUndefined();
    expect(substituteParameters('SELECT * FROM {t:Identifier}', { t: 'x' })).toBeUndefined();
    expect(substituteParameters("SELECT {e:Enum8('a' = 1)}", { e: 'a' })).toBeUndefined();
    expect(substituteParameters('SELECT {m:Map(String, UInt8)}', { m: "{'a':1}" })).toBeUndefined();
    expect(substituteParameters('SELECT {a:UInt8} # comment', { a: '1' })).toBeUndefined();
    expect(substituteParameters('SELECT $$x$$, {a:UInt8}', { a: '1' })).toBeUndefined();
    expect(substituteParameters("SELECT 'unterminated {a:UInt8}", { a: '1' })).toBeUndefined();
    expect(substituteParameters('SELECT {a:UInt8}', { a: '\\N' })).toBeUndefined();
    expect(substituteParameters('SELECT {a:String}', { a: 'odd\\qescape' })).toBeUndefined();
  });
});
