import type { IncomingMessage } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** What one ClickHouse HTTP request asks for, independent of how it travelled. */
export interface ClickHouseRequest {
  sql: string;
  params: Record<string, string>;
  settings: Record<string, string>;
  database: string | undefined;
  queryId: string | undefined;
  /** Output format when the SQL names none (ClickHouse's `default_format`; TabSeparated otherwise). */
  format: string;
  /** True when the body held data after a `query` URL parameter (an INSERT's rows). */
  hasData: boolean;
  dataIsEmpty: boolean;
  compressResponse: boolean;
}

/** URL parameters that are about the HTTP exchange itself, not engine settings. */
const NOT_SETTINGS = new Set(['query', 'database', 'query_id', 'default_format', 'session_id', 'session_timeout', 'session_check', 'user', 'password', 'role', 'quota_key', 'compress', 'decompress', 'buffer_size']);

/** Settings only the HTTP server layer knows; the embedded engine would reject them. */
const HTTP_ONLY_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
  'cancel_http_readonly_queries_on_client_close',
  'http_wait_end_of_query',
]);

export function parseClickHouseRequest(url: URL, headers: IncomingMessage['headers'], rawBody: Buffer): ClickHouseRequest {
  const body = decodeBody(rawBody, headers['content-encoding']);
  const fields = new Map<string, string>();
  for (const [key, value] of url.searchParams) fields.set(key, value);
  let payload = body.toString('utf8');
  const contentType = headers['content-type'] ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    // clickhouse-js sends long parameter lists as form fields instead of URL parameters.
    for (const [key, value] of parseMultipart(body, contentType)) fields.set(key, value);
    payload = '';
  }

  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [key, value] of fields) {
    if (key.startsWith('param_')) params[key.slice('param_'.length)] = value;
    else if (!NOT_SETTINGS.has(key) && !HTTP_ONLY_SETTINGS.has(key) && key !== 'query') settings[key] = value;
  }
  const urlQuery = fields.get('query');
  const hasData = urlQuery !== undefined && payload.length > 0;
  // ClickHouse semantics: with a `query` parameter, the body is data that follows it.
  const sql = urlQuery === undefined ? payload : hasData ? `${urlQuery}\n${payload}` : urlQuery;
  const accept = String(headers['accept-encoding'] ?? '');
  return {
    sql,
    params,
    settings,
    database: fields.get('database') || undefined,
    queryId: fields.get('query_id') || undefined,
    format: fields.get('default_format') || 'TabSeparated',
    hasData,
    dataIsEmpty: urlQuery !== undefined && /^\s*insert\s/i.test(urlQuery) && payload.trim().length === 0,
    compressResponse: fields.get('enable_http_compression') === '1' && /\bgzip\b/.test(accept),
  };
}

function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').toLowerCase()) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      throw new UnsupportedEncodingError(encoding!);
  }
}

export class UnsupportedEncodingError extends Error {}

function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const fields = new Map<string, string>();
  if (!boundary) return fields;
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  for (const part of body.toString('utf8').split(delimiter)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /name="([^"]+)"/.exec(part.slice(0, split));
    if (name) fields.set(name[1]!, part.slice(split + 4).replace(/\r\n$/, ''));
  }
  return fields;
}
