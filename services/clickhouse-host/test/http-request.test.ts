import { describe, expect, it } from 'vitest';
import { ClickHouseException } from '../src/clickhouse-errors.js';
import { parseHttpRequest, type HttpRequestInput, type QueryRequest } from '../src/http-request.js';

const request = (input: Partial<HttpRequestInput>): HttpRequestInput => ({ method: 'POST', url: '/', headers: {}, body: Buffer.alloc(0), ...input });

function query(input: Partial<HttpRequestInput>): QueryRequest {
  const parsed = parseHttpRequest(request(input));
  if (parsed.kind !== 'query') throw new Error(`expected a query, got ${parsed.kind}`);
  return parsed.query;
}

function failure(input: Partial<HttpRequestInput>): ClickHouseException {
  try {
    parseHttpRequest(request(input));
  } catch (error) {
    if (error instanceof ClickHouseException) return error;
    throw error;
  }
  throw new Error('expected a ClickHouse error');
}

describe('parseHttpRequest', () => {
  it('routes health checks', () => {
    expect(parseHttpRequest(request({ method: 'GET', url: '/ping' })).kind).toBe('ping');
    expect(parseHttpRequest(request({ method: 'GET', url: '/' })).kind).toBe('ping');
    expect(parseHttpRequest(request({ method: 'GET', url: '/other' }))).toEqual({ kind: 'not-found', path: '/other' });
  });

  it('separates settings, query parameters and the parameters the HTTP layer consumes', () => {
    const q = query({
      url: '/?query_id=q1&database=crm&default_format=JSONEachRow&param_id=42&param_name=it%5C%27s&max_threads=2&date_time_input_format=best_effort&wait_end_of_query=1&enable_http_compression=1&session_id=abc&session_timeout=120',
      headers: { 'accept-encoding': 'gzip' },
      body: Buffer.from('SELECT {id:UInt32}'),
    });
    expect(q.queryId).toBe('q1');
    expect(q.database).toBe('crm');
    expect(q.defaultFormat).toBe('JSONEachRow');
    expect(q.params).toEqual({ id: '42', name: "it\\'s" });
    expect(q.settings).toEqual({ max_threads: '2', date_time_input_format: 'best_effort' });
    expect(q.session).toEqual({ id: 'abc', timeoutSeconds: 120, check: false });
    expect(q.response).toMatchObject({ codec: 'gzip', waitEndOfQuery: true });
    expect(q.readOnly).toBe(false);
    expect(q.statement).toEqual({ type: 'query', sql: 'SELECT {id:UInt32}', keyword: 'SELECT' });
  });

  it('compresses only when asked with enable_http_compression and Accept-Encoding both', () => {
    expect(query({ url: '/?query=SELECT%201', headers: { 'accept-encoding': 'gzip' } }).response.codec).toBeUndefined();
    expect(query({ url: '/?query=SELECT%201&enable_http_compression=1' }).response.codec).toBeUndefined();
    expect(query({ url: '/?query=SELECT%201&enable_http_compression=1', headers: { 'accept-encoding': 'br' } }).response.codec).toBe('br');
  });

  it('takes the body as data after a query parameter, without copying it', () => {
    const body = Buffer.from('{"a":1}\n{"a":2}\n');
    const q = query({ url: `/?query=${encodeURIComponent('INSERT INTO t FORMAT JSONEachRow')}`, body });
    expect(q.statement).toMatchObject({ type: 'insert', header: 'INSERT INTO t FORMAT JSONEachRow', expectsData: true });
    expect(q.statement.type === 'insert' && q.statement.data).toBe(body);
  });

  it('appends the body after a newline when the query parameter is not an INSERT header', () => {
    const q = query({ url: `/?query=${encodeURIComponent('SELECT 1,')}`, body: Buffer.from('2 FORMAT CSV') });
    expect(q.statement).toEqual({ type: 'query', sql: 'SELECT 1,\n2 FORMAT CSV', keyword: 'SELECT', outputFormat: 'CSV' });
    const inline = query({ url: `/?query=${encodeURIComponent('INSERT INTO t FORMAT CSV\n1')}`, body: Buffer.from('2') });
    expect(inline.statement.type === 'insert' && inline.statement.data.toString()).toBe('1\n2');
  });

  it('splits an INSERT whose rows are in the body', () => {
    const body = Buffer.from('INSERT INTO t FORMAT CSV\n1,2\n');
    const q = query({ body });
    expect(q.statement).toMatchObject({ type: 'insert', header: 'INSERT INTO t FORMAT CSV', expectsData: true });
    expect(q.statement.type === 'insert' && q.statement.data.toString()).toBe('1,2\n');
    expect(query({ body: Buffer.from('INSERT INTO t SELECT 1') }).statement).toMatchObject({ type: 'insert', expectsData: false });
  });

  it('reads multipart/form-data bodies as the client sends large parameters', () => {
    const boundary = '----clickhouse-js-1234';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="query"\r\n\r\nSELECT {v:String}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="param_v"\r\n\r\nline\\none\r\n--${boundary}--\r\n`,
    );
    const q = query({ url: '/?query_id=m&max_threads=1&date_time_input_format=best_effort', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(q.statement).toEqual({ type: 'query', sql: 'SELECT {v:String}', keyword: 'SELECT' });
    expect(q.params).toEqual({ v: 'line\\none' });
    // as on a server, names that end like external-table descriptions are dropped from multipart requests
    expect(q.settings).toEqual({ max_threads: '1' });
  });

  it('makes GET read-only, like ClickHouse', () => {
    expect(query({ method: 'GET', url: '/?query=SELECT%201' }).readOnly).toBe(true);
  });

  it('asks for native compression of the response with compress=1', () => {
    expect(query({ url: '/?query=SELECT%201&compress=1' }).response.nativeCompression).toBe(true);
    expect(query({ url: '/?query=SELECT%201' }).response.nativeCompression).toBe(false);
  });

  it('rejects what a server rejects', () => {
    expect(failure({ body: Buffer.from('  -- nothing\n') })).toMatchObject({ code: 62, type: 'SYNTAX_ERROR' });
    expect(failure({ body: Buffer.from('SELECT 1; SELECT 2') })).toMatchObject({ code: 62, type: 'SYNTAX_ERROR' });
    expect(failure({ url: '/?query=SELECT%201&bad-name=1' })).toMatchObject({ code: 115, type: 'UNKNOWN_SETTING' });
    expect(failure({ url: '/?query=SELECT%201&session_id=s&session_timeout=9999' })).toMatchObject({ code: 374 });
  });
});
