import { describe, expect, it } from 'vitest';
import { credentialsOf } from '../src/auth.js';
import { ClickHouseException } from '../src/clickhouse-errors.js';
import { parseHttpRequest, type QueryRequest } from '../src/http-request.js';
import { hostNameOf, RequestGuard } from '../src/request-guard.js';
import { Sandbox } from '../src/sandbox.js';

const DIR = '/srv/crm/user_files';
const sandbox = new Sandbox({ userFilesDir: DIR, allowedRemoteSources: [] });

function request(sql: string, url = '/'): QueryRequest {
  const parsed = parseHttpRequest({ method: 'POST', url, headers: {}, body: Buffer.from(sql) });
  if (parsed.kind !== 'query') throw new Error('not a query');
  return parsed.query;
}

const sqlOf = (query: QueryRequest) => (query.statement.type === 'query' ? query.statement.sql : query.statement.header);
const applied = (sql: string, url?: string) => sqlOf(sandbox.apply(request(sql, url)));

function refusal(sql: string, url?: string, on: Sandbox = sandbox): string {
  try {
    on.apply(request(sql, url));
  } catch (error) {
    if (error instanceof ClickHouseException) return error.type;
    throw error;
  }
  return 'allowed';
}

describe('sandbox', () => {
  it('resolves relative file paths in the user-files folder and leaves other SQL untouched', () => {
    expect(applied("SELECT * FROM file('a.csv', 'CSV')")).toBe(`SELECT * FROM file('${DIR}/a.csv', 'CSV')`);
    expect(applied("SELECT * FROM 'sub/*.parquet'")).toBe(`SELECT * FROM '${DIR}/sub/*.parquet'`);
    expect(applied(`SELECT * FROM file('${DIR}/b.csv')`)).toBe(`SELECT * FROM file('${DIR}/b.csv')`);
    expect(applied("INSERT INTO FUNCTION file('out.tsv', 'TSV') SELECT 1")).toBe(`INSERT INTO FUNCTION file('${DIR}/out.tsv', 'TSV') SELECT 1`);
    for (const sql of [
      "SELECT trim(LEADING 'x' FROM 'xxab'), extract(DAY FROM toDate('2026-01-02')), substring('abc' FROM 2)",
      "SELECT url, file FROM t WHERE s = 'file(/etc/passwd)' -- url('x')",
      'CREATE TABLE IF NOT EXISTS url (x String) ENGINE = MergeTree ORDER BY x',
      "INSERT INTO s3 (x) SELECT 'a'",
      'SELECT * FROM db.url',
    ]) {
      expect(applied(sql), sql).toBe(sql);
    }
  });

  it('refuses hostile spellings of file access', () => {
    for (const sql of [
      "select * from FiLe('/etc/passwd')",
      "SELECT * FROM file(\n-- comment\n'/etc/passwd')",
      "SELECT * FROM file /* a /* nested */ comment */ ('/etc/passwd')",
      'SELECT * FROM file($$/etc/passwd$$)',
      'SELECT * FROM file($x$/etc/passwd$x$)',
      "SELECT * FROM file('/etc/' 'passwd')",
      "SELECT * FROM file('a/../../x')",
      "SELECT * FROM file('/srv/crm/user_files_evil/x')",
      "SELECT * FROM file('\\/etc/passwd')",
      "SELECT * FROM file(concat('/e', 'tc/passwd'))",
      "ATTACH TABLE t FROM '/etc' (x String) ENGINE = File(TSV)",
      "CREATE DICTIONARY d (k UInt64) PRIMARY KEY k SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
      "SELECT 1 SETTINGS format_template_row = '/etc/passwd'",
    ]) {
      expect(refusal(sql), sql).toBe('PATH_ACCESS_DENIED');
    }
    expect(refusal('SELECT 1', '/?format_schema=%2Fetc%2Fx.proto%3AM')).toBe('PATH_ACCESS_DENIED');
    expect(refusal("SELECT 1 INTO OUTFILE '/tmp/x'")).toBe('INTO_OUTFILE_NOT_ALLOWED');
  });

  it('refuses remote sources unless configured by name', () => {
    for (const sql of [
      "SELECT * FROM `url`('http://x')", "DESCRIBE TABLE s3('http://x/y.csv')", "SELECT * FROM \"remote\"('h', system.one)", "CREATE TABLE t ENGINE = S3Queue('http://x') SETTINGS mode = 'ordered'",
      "CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS disk = disk(type = local, path = '/tmp/anywhere/')",
    ]) {
      expect(refusal(sql), sql).toBe('ACCESS_DENIED');
    }
    const open = new Sandbox({ userFilesDir: DIR, allowedRemoteSources: ['URL'] });
    expect(refusal("SELECT * FROM url('http://x', 'CSV', 'a String')", undefined, open)).toBe('allowed');
    expect(refusal("SELECT * FROM s3('http://x')", undefined, open)).toBe('ACCESS_DENIED');
  });

  it('keeps GET read-only', () => {
    expect(() => Sandbox.assertReadOnly(request('SELECT 1').statement)).not.toThrow();
    expect(() => Sandbox.assertReadOnly(request('SET max_threads = 1').statement)).not.toThrow();
    expect(() => Sandbox.assertReadOnly(request('DROP TABLE t').statement)).toThrow(/readonly/);
  });
});

describe('credentials and request guard', () => {
  it('reads credentials the three ways, and refuses two at once', () => {
    const basic = { authorization: `Basic ${Buffer.from('ann:pa:ss').toString('base64')}` };
    expect(credentialsOf(basic, new URLSearchParams())).toEqual({ user: 'ann', password: 'pa:ss' });
    expect(credentialsOf({ 'x-clickhouse-user': 'bob', 'x-clickhouse-key': 'k' }, new URLSearchParams())).toEqual({ user: 'bob', password: 'k' });
    expect(credentialsOf({}, new URLSearchParams('password=p'))).toEqual({ user: 'default', password: 'p' });
    expect(credentialsOf({}, new URLSearchParams())).toEqual({ user: 'default', password: '' });
    expect(() => credentialsOf(basic, new URLSearchParams('user=x'))).toThrow(/simultaneously/);
    expect(() => credentialsOf({ authorization: 'Bearer t' }, new URLSearchParams())).toThrow(/not supported/);
  });

  it('knows loopback hosts and refuses the rest unless listed', () => {
    expect(['127.0.0.1:8123', 'localhost', '[::1]:1', 'Example.COM:80'].map(hostNameOf)).toEqual(['127.0.0.1', 'localhost', '::1', 'example.com']);
    const guard = new RequestGuard({ allowedOrigins: [], allowedHosts: ['ch.internal'] });
    expect(() => guard.check({ host: 'ch.internal:8123' })).not.toThrow();
    expect(() => guard.check({ host: '[::1]:8123' })).not.toThrow();
    expect(() => guard.check({ host: '127.0.0.2' })).toThrow(/CRM_CLICKHOUSE_ALLOWED_HOSTS/);
    expect(() => guard.check({ host: 'localhost', origin: 'http://localhost:3000' })).toThrow(/CRM_CLICKHOUSE_ALLOWED_ORIGINS/);
  });
});
