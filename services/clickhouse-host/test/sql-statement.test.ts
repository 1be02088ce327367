import { describe, expect, it } from 'vitest';
import { analyzeStatement } from '../src/sql-statement.js';

const dataOf = (sql: string) => {
  const shape = analyzeStatement(sql);
  const buf = Buffer.from(sql);
  return shape.insertData
    ? { header: buf.toString('utf8', 0, shape.insertData.headerEnd), data: buf.toString('utf8', shape.insertData.dataStart) }
    : undefined;
};

describe('analyzeStatement', () => {
  it('names the statement by its first keyword, past comments', () => {
    expect(analyzeStatement('  -- note\n/* a /* nested */ comment */ select 1').keyword).toBe('SELECT');
    expect(analyzeStatement('# shell-style comment\nWITH 1 AS x SELECT x').keyword).toBe('WITH');
    expect(analyzeStatement('(SELECT 1) UNION ALL (SELECT 2)').keyword).toBe('(');
    expect(analyzeStatement(' \n -- only a comment\n').keyword).toBe('');
  });

  it('finds where INSERT data starts, skipping blanks and one line break as ClickHouse does', () => {
    expect(dataOf('INSERT INTO t FORMAT JSONEachRow\n{"a":1}\n')).toEqual({ header: 'INSERT INTO t FORMAT JSONEachRow', data: '{"a":1}\n' });
    expect(dataOf('INSERT INTO t FORMAT CSV  \r\n\n1,2')).toEqual({ header: 'INSERT INTO t FORMAT CSV', data: '\n1,2' });
    expect(dataOf("INSERT INTO db.t (a, b) SETTINGS format_csv_delimiter=';' FORMAT CSV 1;2")).toEqual({
      header: "INSERT INTO db.t (a, b) SETTINGS format_csv_delimiter=';' FORMAT CSV",
      data: '1;2',
    });
    expect(dataOf("insert into t values (1, 'a;b'), (2, ')')")).toEqual({ header: 'insert into t values', data: "(1, 'a;b'), (2, ')')" });
    expect(dataOf('INSERT INTO t (* EXCEPT (x)) FORMAT JSONEachRow')).toEqual({ header: 'INSERT INTO t (* EXCEPT (x)) FORMAT JSONEachRow', data: '' });
  });

  it('is not fooled by tables named like keywords or by data that looks like SQL', () => {
    expect(dataOf('INSERT INTO format FORMAT TSV\nx')).toEqual({ header: 'INSERT INTO format FORMAT TSV', data: 'x' });
    expect(dataOf('INSERT INTO `values`.`format` FORMAT TSV\nx')).toEqual({ header: 'INSERT INTO `values`.`format` FORMAT TSV', data: 'x' });
    expect(dataOf("INSERT INTO FUNCTION file('o.csv', 'CSV', 'a UInt8') VALUES (1)")).toEqual({
      header: "INSERT INTO FUNCTION file('o.csv', 'CSV', 'a UInt8') VALUES",
      data: '(1)',
    });
    const shape = analyzeStatement('INSERT INTO t FORMAT TSV\nSELECT 1; DROP TABLE t\n');
    expect(shape.secondStatementAt).toBeUndefined();
    expect(analyzeStatement('INSERT INTO t SELECT * FROM s').insertData).toBeUndefined();
  });

  it('reads the output format of a query, ignoring nested and quoted ones', () => {
    expect(analyzeStatement('SELECT 1 \nFORMAT JSONEachRow').outputFormat).toBe('JSONEachRow');
    expect(analyzeStatement("SELECT 'FORMAT CSV', (SELECT 1 FORMAT TSV) FORMAT JSON SETTINGS max_threads = 1").outputFormat).toBe('JSON');
    expect(analyzeStatement('SELECT "format" FROM t').outputFormat).toBeUndefined();
  });

  it('spots a second statement after a top-level semicolon, but allows a trailing one', () => {
    expect(analyzeStatement('SELECT 1;').secondStatementAt).toBeUndefined();
    expect(analyzeStatement('SELECT 1 ; ;  -- done\n').secondStatementAt).toBeUndefined();
    expect(analyzeStatement("SELECT ';', $$;$$, `a;b`").secondStatementAt).toBeUndefined();
    expect(analyzeStatement('SELECT 1; DROP TABLE t').secondStatementAt).toBe(10);
  });

  it('handles escapes and unterminated input without throwing', () => {
    expect(analyzeStatement("SELECT 'it\\'s', 'a''b'; SELECT 2").secondStatementAt).toBe(24);
    expect(analyzeStatement("SELECT 'unterminated; SELECT 2").secondStatementAt).toBeUndefined();
    expect(analyzeStatement('SELECT /* unterminated').keyword).toBe('SELECT');
  });
});
