import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseHost, type ClickHouseHost } from '../src/index.js';
import { rawRequest, type RawOptions } from './support/raw-http.js';

// One host per test file (chDB binds one data directory per process), with a password and small limits.
const PASSWORD = 'p4ss-w0rd';
let dir: string;
let outside: string;
let userFiles: string;
let host: ClickHouseHost;

const connect = (options: ClickHouseClientConfigOptions = {}) =>
  createClient({ url: host.url, username: 'default', password: PASSWORD, log: { level: ClickHouseLogLevel.OFF }, ...options });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ch-host-security-'));
  outside = mkdtempSync(join(tmpdir(), 'ch-host-outside-'));
  userFiles = join(dir, 'files');
  writeFileSync(join(outside, 'secret.txt'), 'secret\n');
  host = await startClickHouseHost({
    dataDir: join(dir, 'data'),
    port: 0,
    password: PASSWORD,
    userFilesDir: userFiles,
    allowedOrigins: ['http://localhost:3000'],
    limits: { maxConnections: 20, maxConcurrentQueries: 2, maxBodyBytes: 1024 * 1024, maxSessions: 3, maxExecutionTimeSeconds: 3, maxMemoryUsageBytes: 300_000_000 },
  });
});

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const raw = async (path: string, options?: RawOptions): Promise<RawResponse> => {
  const response = await rawRequest(`${host.url}${path}`, options);
  return { ...response, body: response.body.toString() };
};

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const keyHeaders = (user: string, password: string) => ({ 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password });
const params = (user: string, password: string) => `user=${encodeURIComponent(user)}&password=${encodeURIComponent(password)}`;

/** SQL as the right user, through the raw wire, so the status and body can be checked exactly. */
const sql = (query: string, extra: Record<string, string> = {}) => raw('/?default_format=TSV', { body: query, headers: { ...keyHeaders('default', PASSWORD), ...extra } });

function expectError(response: RawResponse, code: number, name: string, status: number): void {
  expect(response.headers['x-clickhouse-exception-code'], response.body).toBe(String(code));
  expect(response.body).toMatch(new RegExp(`^Code: ${code}\\. DB::Exception: .*\\(${name}\\)`, 's'));
  expect(response.status).toBe(status);
}

describe('authentication', () => {
  it('takes the right password each way ClickHouse does, and refuses a wrong or missing one with 516', async () => {
    for (const [how, headers, query] of [
      ['basic', basic('default', PASSWORD), ''],
      ['X-ClickHouse headers', keyHeaders('default', PASSWORD), ''],
      ['URL parameters', {}, params('default', PASSWORD)],
    ] as const) {
      const ok = await raw(`/?${query}`, { body: 'SELECT currentUser()', headers });
      expect(ok.status, how).toBe(200);
      expect(ok.body, how).toBe('default\n');
    }
    for (const [headers, query] of [
      [basic('default', 'wrong'), ''],
      [keyHeaders('default', 'wrong'), ''],
      [{}, params('default', 'wrong')],
      [{}, params('intruder', PASSWORD)],
      [{}, ''],
    ] as const) {
      const refused = await raw(`/?${query}`, { body: 'SELECT 1', headers });
      expectError(refused, 516, 'AUTHENTICATION_FAILED', 403);
      expect(refused.body).toMatch(/: Authentication failed: password is incorrect, or there is no user with such name\. \(AUTHENTICATION_FAILED\)\n$/);
    }
    // two ways at once, as a server refuses
    expectError(await raw(`/?${params('default', PASSWORD)}`, { body: 'SELECT 1', headers: basic('default', PASSWORD) }), 516, 'AUTHENTICATION_FAILED', 403);
    // the query parameter form of a GET is checked too; the health checks are open
    expectError(await raw(`/?query=SELECT%201`, { method: 'GET' }), 516, 'AUTHENTICATION_FAILED', 403);
    expect((await raw('/ping', { method: 'GET' })).body).toBe('Ok.\n');
    expect((await raw('/', { method: 'GET' })).body).toBe('Ok.\n');
  });

  it('works with the official client, which reports a wrong password as AUTHENTICATION_FAILED', async () => {
    const right = connect();
    const wrong = connect({ password: 'nope' });
    try {
      expect(await (await right.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json()).toEqual([{ one: 1 }]);
      const error = await wrong.query({ query: 'SELECT 1' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ClickHouseError);
      expect((error as ClickHouseError).code).toBe('516');
    } finally {
      await right.close();
      await wrong.close();
    }
  });

  it('refuses a browser Origin unless allowed, and a Host that is not loopback', async () => {
    expectError(await sql('SELECT 1', { Origin: 'https://evil.example' }), 497, 'ACCESS_DENIED', 403);
    expectError(await sql('SELECT 1', { Origin: 'null' }), 497, 'ACCESS_DENIED', 403);
    expect((await sql('SELECT 1', { Origin: 'http://localhost:3000' })).status).toBe(200);
    // DNS rebinding: the page's own name arrives as Host
    expectError(await sql('SELECT 1', { Host: 'evil.example:8123' }), 497, 'ACCESS_DENIED', 403);
    for (const name of ['localhost:8123', '127.0.0.1', '[::1]:9000', 'LOCALHOST']) expect((await sql('SELECT 1', { Host: name })).status, name).toBe(200);
  });

  it('refuses to listen beyond loopback without a password', async () => {
    await expect(startClickHouseHost({ dataDir: join(dir, 'other'), host: '0.0.0.0', port: 0 })).rejects.toThrow(/CLICKHOUSE_PASSWORD/);
  });
});

describe('sandbox', () => {
  it('confines file functions to the user-files folder', async () => {
    const secret = join(outside, 'secret.txt');
    for (const query of [
      `SELECT * FROM file('${secret}', 'LineAsString')`,
      `SELECT * FROM FILE('/etc/passwd', 'LineAsString')`,
      `SELECT * FROM /*x*/file/* y */ (  '/etc/passwd', 'LineAsString')`,
      `SELECT * FROM \`file\`('/etc/passwd', 'LineAsString')`,
      `SELECT * FROM "File"('/etc/passwd', 'LineAsString')`,
      `SELECT * FROM file('../../../../../../etc/passwd', 'LineAsString')`,
      `SELECT * FROM file('{x,../../../../../../etc/passwd}', 'LineAsString')`,
      `SELECT * FROM file('\\x2fetc/passwd', 'LineAsString')`,
      `SELECT * FROM file(concat('/etc', '/passwd'), 'LineAsString')`,
      `WITH '/etc/passwd' AS p SELECT * FROM file(p, 'LineAsString')`,
      `SELECT file('/etc/hostname')`,
      `SELECT * FROM '/etc/passwd'`,
      `SELECT * FROM sqlite('/etc/passwd', 't')`,
      // clickhouse-local's default database reads a quoted path as a table
      `SELECT * FROM "/etc/passwd"`,
      `SELECT * FROM \`${secret}\``,
      `SELECT * FROM default.\`/etc/passwd\``,
    ]) {
      expectError(await sql(query), 481, 'PATH_ACCESS_DENIED', 500);
    }
    // a path given as a query parameter is refused too
    const byParameter = await raw(`/?param_p=${encodeURIComponent(secret)}`, { body: `SELECT * FROM file({p:String}, 'LineAsString')`, headers: keyHeaders('default', PASSWORD) });
    expectError(byParameter, 481, 'PATH_ACCESS_DENIED', 500);
    const byIdentifier = await raw(`/?param_t=${encodeURIComponent(secret)}`, { body: 'SELECT * FROM {t:Identifier}', headers: keyHeaders('default', PASSWORD) });
    expectError(byIdentifier, 481, 'PATH_ACCESS_DENIED', 500);
  });

  it('confines writes: INSERT INTO FUNCTION file, the File engine, INTO OUTFILE', async () => {
    const target = join(outside, 'written.csv');
    for (const query of [
      `INSERT INTO FUNCTION file('${target}', 'CSV') SELECT 1`,
      `insert into function FILE ( '${target}' , 'CSV' ) select 1`,
      `CREATE TABLE t_file (x UInt8) ENGINE=File(CSV, '${target}')`,
      `CREATE TABLE t_fd (x UInt8) ENGINE = File(TSV, 0)`,
      `CREATE DATABASE d_fs ENGINE = Filesystem('${outside}')`,
    ]) {
      expectError(await sql(query), 481, 'PATH_ACCESS_DENIED', 500);
    }
    expectError(await sql(`SELECT 1 INTO OUTFILE '${target}'`), 358, 'INTO_OUTFILE_NOT_ALLOWED', 500);
    expectError(await sql(`SELECT 1 INTO OUTFILE '../relative.csv'`), 358, 'INTO_OUTFILE_NOT_ALLOWED', 500);
    expectError(await sql(`INSERT INTO t FROM INFILE '${join(outside, 'secret.txt')}' FORMAT LineAsString`), 481, 'PATH_ACCESS_DENIED', 500);
    expect(existsSync(target)).toBe(false);
  });

  it('allows file functions inside the folder, relative paths resolving there as on a server', async () => {
    expect((await sql(`INSERT INTO FUNCTION file('out.csv', 'CSV', 'x UInt32') SELECT number FROM numbers(5)`)).status).toBe(200);
    expect(readFileSync(join(userFiles, 'out.csv'), 'utf8')).toBe('0\n1\n2\n3\n4\n');
    const read = await sql(`SELECT sum(x) FROM file('out.csv', 'CSV', 'x UInt32')`);
    expect(read.body).toBe('10\n');
    expect((await sql(`SELECT count() FROM file('${join(userFiles, 'ou*.csv')}', 'CSV', 'x UInt32')`)).body).toBe('5\n');
    expect((await sql(`SELECT count() FROM \`${join(userFiles, 'out.csv')}\``)).body).toBe('5\n');
    expect((await sql(`SELECT 42 INTO OUTFILE '${join(userFiles, 'answer.tsv')}'`)).status).toBe(200);
    expect(readFileSync(join(userFiles, 'answer.tsv'), 'utf8')).toBe('42\n');
    expect((await sql(`SELECT 43 INTO OUTFILE 'relative.tsv'`)).status).toBe(200);
    expect(readFileSync(join(userFiles, 'relative.tsv'), 'utf8')).toBe('43\n');
    expect((await sql(`CREATE TABLE t_inside (x UInt32) ENGINE = File(CSV, 'out.csv')`)).status).toBe(200);
    expect((await sql('SELECT count() FROM t_inside')).body).toBe('5\n');
    expect((await sql(`SELECT getServerSetting('user_files_path')`)).body.trim().replace(/\/$/, '')).toBe(userFiles);
  });

  it('refuses table functions, engines and dictionary sources that reach other hosts', async () => {
    for (const query of [
      `SELECT * FROM url('http://127.0.0.1:1/x', 'CSV', 'a String')`,
      `SELECT * FROM URL ('http://127.0.0.1:1/x', 'CSV', 'a String')`,
      `SELECT * FROM remote('127.0.0.1:1', system.one)`,
      `SELECT * FROM remoteSecure('127.0.0.1:1', system.one)`,
      `SELECT * FROM cluster('default', system.one)`,
      `SELECT * FROM s3('http://127.0.0.1:1/b/x.csv')`,
      `SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')`,
      `SELECT * FROM postgresql('127.0.0.1:1', 'db', 't', 'u', 'p')`,
      `DESCRIBE TABLE s3('http://127.0.0.1:1/b/x.csv')`,
      `INSERT INTO FUNCTION url('http://127.0.0.1:1/x', 'CSV', 'a String') SELECT 'a'`,
      `CREATE TABLE t_url (a String) ENGINE = URL('http://127.0.0.1:1/x', CSV)`,
      `CREATE TABLE t_kafka (a String) ENGINE = Kafka SETTINGS kafka_broker_list = '127.0.0.1:1', kafka_topic_list = 't', kafka_group_name = 'g', kafka_format = 'CSV'`,
      `CREATE DATABASE d_mysql ENGINE = MySQL('127.0.0.1:1', 'db', 'u', 'p')`,
      `CREATE DICTIONARY d_http (k UInt64, v String) PRIMARY KEY k SOURCE(HTTP(url 'http://127.0.0.1:1/d' format 'CSV')) LAYOUT(FLAT()) LIFETIME(0)`,
      `CREATE DICTIONARY d_ch (k UInt64, v String) PRIMARY KEY k SOURCE(CLICKHOUSE(HOST 'example.com' PORT 9000 TABLE 't')) LAYOUT(FLAT()) LIFETIME(0)`,
      `SELECT * FROM executable('x.sh', 'TSV', 'a String')`,
    ]) {
      expectError(await sql(query), 497, 'ACCESS_DENIED', 403);
    }
    // a table may still be called url; and a Values insert cannot call out either
    expect((await sql('CREATE TABLE url (x String) ENGINE = Memory')).status).toBe(200);
    expect((await sql("INSERT INTO url (x) VALUES ('a')")).status).toBe(200);
    expectError(await sql("INSERT INTO url (x) VALUES (file('/etc/hostname'))"), 497, 'ACCESS_DENIED', 403);
  });

  it('keeps GET read-only inside a session, as a server does', async () => {
    const session = `s-${Date.now()}`;
    const get = (query: string) => raw(`/?session_id=${session}&query=${encodeURIComponent(query)}`, { method: 'GET', headers: keyHeaders('default', PASSWORD) });
    expect((await get('SELECT 1')).status).toBe(200);
    expectError(await get('CREATE TABLE via_get (x UInt8) ENGINE = Memory'), 164, 'READONLY', 500);
    expectError(await get('INSERT INTO url VALUES (1)'), 164, 'READONLY', 500);
    expect((await raw('/', { body: 'EXISTS TABLE via_get', headers: keyHeaders('default', PASSWORD) })).body).toBe('0\n');
  });
});

describe('sessions and readonly', () => {
  it('keeps a session read-only once it SET readonly = 1, whatever later requests ask', async () => {
    const session = `ro-${Date.now()}`;
    const post = (query: string, extra = '') => raw(`/?session_id=${session}${extra}`, { body: query, headers: keyHeaders('default', PASSWORD) });
    expect((await post('SET readonly = 1')).status).toBe(200);
    expectError(await post('CREATE TABLE ro_t (x UInt8) ENGINE = Memory'), 164, 'READONLY', 500);
    // a request whose own settings cannot be applied (or undone) in readonly mode must not end the session and lift readonly with it
    expect((await post('SELECT 1', '&max_threads=1')).status).not.toBe(200);
    expect((await post('SELECT 1', '&readonly=0')).status).not.toBe(200);
    expectError(await post('CREATE TABLE ro_t (x UInt8) ENGINE = Memory'), 164, 'READONLY', 500);
    expect((await post('SELECT getSetting(\'readonly\')')).body).toBe('1\n');
    await post('SELECT 1', '&close_session=1');
  });
});

describe('limits', () => {
  it('refuses a query beyond max_concurrent_queries with TOO_MANY_SIMULTANEOUS_QUERIES', async () => {
    const slow = [sql('SELECT sleep(1)'), sql('SELECT sleep(1)')];
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectError(await sql('SELECT 1'), 202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 500);
    for (const response of await Promise.all(slow)) expect(response.status).toBe(200);
    expect((await sql('SELECT 1')).status).toBe(200);
  });

  it('refuses a body beyond the limit, also when it is compressed', async () => {
    const big = `SELECT length('${'x'.repeat(1024 * 1024)}')`;
    expectError(await sql(big), 229, 'QUERY_IS_TOO_LARGE', 413);
    const { gzipSync } = await import('node:zlib');
    expectError(await sql(gzipSync(big) as unknown as string, { 'Content-Encoding': 'gzip' }), 229, 'QUERY_IS_TOO_LARGE', 413);
    expect((await sql(`SELECT length('${'x'.repeat(1000)}')`)).body).toBe('1000\n');
  });

  it('stops a query at max_execution_time with TIMEOUT_EXCEEDED, and at max_memory_usage with MEMORY_LIMIT_EXCEEDED', async () => {
    const started = Date.now();
    expectError(await sql('SELECT count() FROM system.numbers'), 159, 'TIMEOUT_EXCEEDED', 408);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await sql("SELECT getSetting('max_execution_time'), getSetting('max_memory_usage')")).body).toBe('3\t300000000\n');
    expectError(await sql('SELECT groupArray(number) FROM numbers(100000000)'), 241, 'MEMORY_LIMIT_EXCEEDED', 500);
  });

  it('refuses a session beyond the limit with USER_SESSION_LIMIT_EXCEEDED', async () => {
    const open = (id: string) => raw(`/?session_id=${id}`, { body: 'SELECT 1', headers: keyHeaders('default', PASSWORD) });
    // the GET and readonly tests above left two sessions open
    expect((await open('limit-a')).status).toBe(200);
    expectError(await open('limit-b'), 700, 'USER_SESSION_LIMIT_EXCEEDED', 500);
    expect((await open('limit-a')).status).toBe(200);
  });

  it('closes connections beyond max_connections', async () => {
    const { port } = host;
    const sockets: Socket[] = [];
    let closed = 0;
    await Promise.all(
      Array.from({ length: 25 }, () => new Promise<void>((resolve) => {
        const socket = connectTcp(port, '127.0.0.1', () => resolve());
        socket.on('close', () => closed++);
        socket.on('error', () => undefined);
        sockets.push(socket);
      })),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closed).toBeGreaterThanOrEqual(5);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await sql('SELECT 1')).body).toBe('1\n');
  });
});
