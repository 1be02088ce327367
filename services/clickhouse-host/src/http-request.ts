import type { IncomingHttpHeaders } from 'node:http';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';
import { chooseResponseCodec, type ResponseCodec } from './compression.js';
import type { SpooledInsert } from './insert-stream.js';
import { boundaryOf, parseMultipart } from './multipart.js';
import { analyzeStatement } from './sql-statement.js';

/**
 * Turns an HTTP request into what ClickHouse's HTTP handler would run, with
 * its semantics: URL parameters are settings unless reserved; `param_<name>`
 * are query parameters; with a `query` parameter the body is data appended
 * after a newline, otherwise the body is the query; GET is read-only.
 */

export interface HttpRequestInput {
  method: string;
  /** Path and query string, as in `IncomingMessage.url`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body with any Content-Encoding and native compression already undone (empty when it was spooled). */
  body: Buffer;
  /** An INSERT whose data the body streamed into a file (insert-stream.ts). */
  spooled?: SpooledInsert;
}

export type { ResponseCodec };

/**
 * `insert`: an INSERT the engine can take as header plus raw bytes;
 * `expectsData` is false for INSERT ... SELECT. `query`: everything else, as SQL text.
 */
export type Statement =
  | { type: 'insert'; header: string; data: Buffer; expectsData: boolean; spooled?: SpooledInsert }
  | { type: 'query'; sql: string; keyword: string; outputFormat?: string };

export interface SessionRequest {
  id: string;
  timeoutSeconds: number;
  /** `session_check=1`: fail instead of creating the session. */
  check: boolean;
}

export interface QueryRequest {
  statement: Statement;
  /** Query parameters, values exactly as sent (ClickHouse's escaped text form). */
  params: Record<string, string>;
  /** Engine settings from the URL, values as sent; HTTP-layer settings are not included. */
  settings: Record<string, string>;
  database?: string;
  /** Output format when the statement has no FORMAT clause. */
  defaultFormat: string;
  queryId?: string;
  session?: SessionRequest;
  /** GET requests run with readonly=2, as in ClickHouse. */
  readOnly: boolean;
  response: {
    codec?: ResponseCodec;
    /** `compress=1`: the body in ClickHouse's native LZ4 blocks (inside any HTTP codec). */
    nativeCompression: boolean;
    compressionLevel: number;
    /** `wait_end_of_query`: hold the whole result so late errors still get an error status. */
    waitEndOfQuery: boolean;
    /** Bytes held back before the response starts, so early errors still get an error status. */
    bufferSize: number;
  };
}

export type HostRequest =
  | { kind: 'ping' }
  | { kind: 'not-found'; path: string }
  | { kind: 'query'; query: QueryRequest };

// URL parameters the HTTP handler consumes itself (ClickHouse's reserved_param_names plus the ones it reads directly).
const RESERVED = new Set([
  'query',
  'database',
  'default_format',
  'compress',
  'decompress',
  'user',
  'password',
  'quota_key',
  'query_id',
  'stacktrace',
  'buffer_size',
  'wait_end_of_query',
  'session_id',
  'session_timeout',
  'session_check',
  'client_protocol_version',
  'close_session',
  'role',
]);

// Settings that only steer the HTTP layer; the embedded engine has no HTTP server to apply them to.
const HTTP_LAYER_SETTINGS = new Set([
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'http_wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_write_exception_in_output_format',
  'http_native_compression_disable_checksumming_on_decompress',
  'http_response_headers',
]);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULT_BUFFER_SIZE = 1024 * 1024; // DBMS_DEFAULT_BUFFER_SIZE

/** A server's default_session_timeout and max_session_timeout. */
export interface SessionTimeouts {
  defaultSessionTimeoutSeconds: number;
  maxSessionTimeoutSeconds: number;
}

const SERVER_SESSION_TIMEOUTS: SessionTimeouts = { defaultSessionTimeoutSeconds: 60, maxSessionTimeoutSeconds: 3600 };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  return undefined;
}

function parseUInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export { chooseResponseCodec };

export function parseHttpRequest(input: HttpRequestInput, timeouts: SessionTimeouts = SERVER_SESSION_TIMEOUTS): HostRequest {
  const url = new URL(input.url, 'http://localhost');
  const method = input.method.toUpperCase();
  const path = url.pathname;
  if (path === '/ping' || path === '/replicas_status') return { kind: 'ping' };
  if (path !== '/') return { kind: 'not-found', path };

  const contentType = header(input.headers, 'content-type') ?? '';
  const isMultipart = method === 'POST' && contentType.toLowerCase().startsWith('multipart/form-data');

  // URL parameters first, then form fields (ClickHouse's HTMLForm merges both); a later value wins.
  const fields = new Map<string, string>();
  for (const [key, value] of url.searchParams) fields.set(key, value);
  let formQuery: string | undefined;
  if (isMultipart) {
    const boundary = boundaryOf(contentType);
    const parts = boundary === undefined ? undefined : parseMultipart(input.body, boundary);
    if (!parts) throw ClickHouseException.of(ErrorCode.BAD_ARGUMENTS, 'Malformed multipart/form-data request body');
    for (const part of parts) {
      if (part.filename !== undefined) {
        throw ClickHouseException.of(ErrorCode.NOT_IMPLEMENTED, 'External tables (multipart file parts) are not supported by the embedded ClickHouse host');
      }
      if (part.name === 'query') formQuery = part.value.toString('utf8');
      else fields.set(part.name, part.value.toString('utf8'));
    }
  }

  const queryParam = formQuery ?? fields.get('query');
  const bodyIsQueryOrData = method === 'POST' && !isMultipart;
  if (queryParam === undefined && !input.spooled && !(bodyIsQueryOrData && input.body.length > 0)) {
    if (method === 'GET' || method === 'HEAD') return { kind: 'ping' };
  }
  if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
    throw ClickHouseException.of(ErrorCode.BAD_ARGUMENTS, `HTTP method ${method} is not supported`);
  }

  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [key, value] of fields) {
    if (key === '' || RESERVED.has(key)) continue;
    // With a multipart body ClickHouse skips every name ending like an external-table description,
    // settings (date_time_input_format!) and param_*_format alike; so does this host, so code sees the same.
    if (isMultipart && /_(format|types|structure)$/.test(key)) continue;
    if (key.startsWith('param_')) {
      params[key.slice('param_'.length)] = value;
      continue;
    }
    if (HTTP_LAYER_SETTINGS.has(key)) continue;
    if (!SETTING_NAME.test(key)) {
      throw ClickHouseException.of(ErrorCode.UNKNOWN_SETTING, `Unknown setting '${key}'`);
    }
    settings[key] = value;
  }

  let session: SessionRequest | undefined;
  const sessionId = fields.get('session_id');
  if (sessionId !== undefined && sessionId !== '') {
    const rawTimeout = fields.get('session_timeout');
    let timeoutSeconds = timeouts.defaultSessionTimeoutSeconds;
    if (rawTimeout !== undefined) {
      const parsed = parseUInt(rawTimeout);
      if (parsed === undefined) {
        throw ClickHouseException.of(ErrorCode.INVALID_SESSION_TIMEOUT, `Invalid session timeout: '${rawTimeout}'`);
      }
      if (parsed > timeouts.maxSessionTimeoutSeconds) {
        throw ClickHouseException.of(
          ErrorCode.INVALID_SESSION_TIMEOUT,
          `Session timeout '${rawTimeout}' is larger than max_session_timeout: ${timeouts.maxSessionTimeoutSeconds}`,
        );
      }
      timeoutSeconds = parsed;
    }
    session = { id: sessionId, timeoutSeconds, check: fields.get('session_check') === '1' };
  }

  const statement: Statement = input.spooled
    ? { type: 'insert', header: input.spooled.sql, data: Buffer.alloc(0), expectsData: true, spooled: input.spooled }
    : buildStatement(method === 'POST' && !isMultipart ? input.body : undefined, queryParam);
  const database = header(input.headers, 'x-clickhouse-database') || fields.get('database') || undefined;
  const defaultFormat = header(input.headers, 'x-clickhouse-format') || fields.get('default_format') || 'TabSeparated';
  const queryId = fields.get('query_id') || header(input.headers, 'x-clickhouse-query-id') || undefined;
  const compressionEnabled = parseBool(fields.get('enable_http_compression')) ?? false;
  const codec = compressionEnabled ? chooseResponseCodec(header(input.headers, 'accept-encoding')) : undefined;
  const bufferSize = Math.max(
    parseUInt(fields.get('buffer_size')) ?? parseUInt(fields.get('http_response_buffer_size')) ?? 0,
    DEFAULT_BUFFER_SIZE,
  );

  return {
    kind: 'query',
    query: {
      statement,
      params,
      settings,
      ...(database === undefined ? {} : { database }),
      defaultFormat,
      ...(queryId === undefined ? {} : { queryId }),
      ...(session === undefined ? {} : { session }),
      readOnly: method !== 'POST',
      response: {
        ...(codec === undefined ? {} : { codec }),
        nativeCompression: parseBool(fields.get('compress')) ?? false,
        compressionLevel: parseUInt(fields.get('http_zlib_compression_level')) ?? 3,
        waitEndOfQuery: parseBool(fields.get('wait_end_of_query') ?? fields.get('http_wait_end_of_query')) ?? false,
        bufferSize,
      },
    },
  };
}

/**
 * `body` is the POST body when it takes part in the query (not for GET or
 * multipart). ClickHouse reads `query` + "\n" + body as one text; an INSERT's
 * data is whatever follows its header, so a large body is sliced, never copied.
 */
export function buildStatement(body: Buffer | undefined, queryParam: string | undefined): Statement {
  const hasBody = body !== undefined && body.length > 0;
  if (queryParam !== undefined) {
    const text = Buffer.from(queryParam, 'utf8');
    const shape = analyzeStatement(text);
    if (shape.keyword === 'INSERT' && shape.insertData && shape.secondStatementAt === undefined) {
      const rest = text.subarray(shape.insertData.dataStart);
      const headerText = text.toString('utf8', 0, shape.insertData.headerEnd);
      const insert = (data: Buffer): Statement => ({ type: 'insert', header: headerText, data, expectsData: true });
      if (!hasBody) return insert(rest);
      if (rest.length > 0) return insert(Buffer.concat([rest, Buffer.from('\n'), body]));
      // The appended "\n" is the line break ClickHouse skips after the header, unless the header already ended with one.
      const consumedLineBreak = shape.insertData.dataStart > shape.insertData.headerEnd && text[shape.insertData.dataStart - 1] === 0x0a;
      return insert(consumedLineBreak ? Buffer.concat([Buffer.from('\n'), body]) : body);
    }
    return queryStatement(hasBody ? Buffer.concat([text, Buffer.from('\n'), body]) : text);
  }
  return queryStatement(body ?? Buffer.alloc(0));
}

function queryStatement(text: Buffer): Statement {
  const shape = analyzeStatement(text);
  if (shape.keyword === '') throw ClickHouseException.of(ErrorCode.SYNTAX_ERROR, 'Empty query');
  if (shape.secondStatementAt !== undefined) {
    throw ClickHouseException.of(
      ErrorCode.SYNTAX_ERROR,
      `Syntax error (Multi-statements are not allowed): failed at position ${shape.secondStatementAt + 1}: ${text
        .toString('utf8', shape.secondStatementAt, Math.min(text.length, shape.secondStatementAt + 40))
        .trim()}`,
    );
  }
  if (shape.keyword === 'INSERT') {
    if (shape.insertData) {
      return {
        type: 'insert',
        header: text.toString('utf8', 0, shape.insertData.headerEnd),
        data: text.subarray(shape.insertData.dataStart),
        expectsData: true,
      };
    }
    return { type: 'insert', header: text.toString('utf8'), data: Buffer.alloc(0), expectsData: false };
  }
  return {
    type: 'query',
    sql: text.toString('utf8'),
    keyword: shape.keyword,
    ...(shape.outputFormat === undefined ? {} : { outputFormat: shape.outputFormat }),
  };
}
