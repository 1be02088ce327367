import { ClickHouseLogLevel, createClient, ClickHouseError, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { CrmError } from '@crm/runtime';
import { clickhouseTls, type ClickHouseConfig } from './settings.js';

export type { ClickHouseClient, ClickHouseSettings };

/**
 * One client per process; it pools HTTP connections, with the configured TLS (settings.ts). The client's own log is off: every caller
 * classifies and reports failures itself (a service by code and type, the CLI in one line),
 * and the client would print ClickHouse's messages, which quote row values, to the console.
 */
export function createClickHouse(config: ClickHouseConfig, options: { database?: boolean } = {}): ClickHouseClient {
  const tls = clickhouseTls(config);
  return createClient({
    ...(tls && { tls }),
    log: { level: ClickHouseLogLevel.OFF },
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    ...(options.database === false ? {} : { database: config.CLICKHOUSE_DATABASE }),
    request_timeout: 300_000,
    clickhouse_settings: {
      // Dates travel as ISO-ish text in UTC; 64-bit integers as numbers we parse ourselves.
      date_time_input_format: 'best_effort',
      // Keeps long scoring queries alive behind proxies; the embedded host ignores it.
      send_progress_in_http_headers: 1,
      http_headers_progress_interval_ms: '10000',
      output_format_json_quote_64bit_integers: 0,
    },
  });
}

/**
 * For the statements that aggregate every customer (a full scoring run, the dashboard's
 * aggregates): past this many bytes a GROUP BY goes on in parts on disk, so the embedded host's
 * peak while scoring 1 M customers stays under 2 GiB (docs/BENCHMARKS.md). An update's few
 * customers never reach it.
 */
export const BOUNDED_AGGREGATION = { max_bytes_before_external_group_by: '300000000' } as const satisfies ClickHouseSettings;

/**
 * Server-side codes after which the same request may succeed: the server was
 * overloaded, timing out, or shutting down. Anything else (syntax, unknown
 * table, bad data) is a bug or bad input and is not retried.
 */
const RETRIABLE_CLICKHOUSE_CODES = new Set(['3', '159', '164', '202', '209', '210', '241', '242', '252', '425', '999']);

/**
 * Codes that blame the inserted data, not the query or the server: a value that
 * cannot be parsed or held by its column. Ingest isolates the rows behind them.
 */
const DATA_REJECTION_CODES = new Set([
  '6', // CANNOT_PARSE_TEXT
  '25', // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone surrogate's \u escape)
  '26', // CANNOT_PARSE_QUOTED_STRING
  '27', // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '38', // CANNOT_PARSE_DATE
  '41', // CANNOT_PARSE_DATETIME (instants before 1970 or from 2286)
  '53', // TYPE_MISMATCH
  '69', // ARGUMENT_OUT_OF_BOUND
  '70', // CANNOT_CONVERT_TYPE
  '72', // CANNOT_PARSE_NUMBER
  '117', // INCORRECT_DATA
  '131', // TOO_LARGE_STRING_SIZE
  '321', // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  '376', // CANNOT_PARSE_UUID
  '407', // DECIMAL_OVERFLOW
  '469', // VIOLATED_CONSTRAINT (a table's CHECK constraint refuses the row)
]);

/** An error some package already classified (ModelError, CrmError): it says itself whether a retry helps. */
type ClassifiedError = Error & { code: string; retriable: boolean };
const isClassified = (error: unknown): error is ClassifiedError =>
  error instanceof Error && typeof (error as { retriable?: unknown }).retriable === 'boolean' && typeof (error as { code?: unknown }).code === 'string';

/** Wraps a ClickHouse failure in a CrmError that says whether a retry can help; an error classified where it arose is kept. */
export function classifyClickHouseError(error: unknown, what: string): CrmError | ClassifiedError {
  if (isClassified(error)) return error;
  if (error instanceof ClickHouseError) {
    return new CrmError(DATA_REJECTION_CODES.has(error.code) ? 'CLICKHOUSE_DATA_REJECTED' : 'CLICKHOUSE_QUERY_FAILED', `${what}: ClickHouse error ${error.code} (${error.type})`, {
      retriable: RETRIABLE_CLICKHOUSE_CODES.has(error.code),
      cause: error,
    });
  }
  // Connection refused, reset, socket timeout: the server is away, not wrong.
  return new CrmError('CLICKHOUSE_UNAVAILABLE', `${what}: ${(error as Error)?.message ?? String(error)}`, {
    retriable: true,
    cause: error,
  });
}
