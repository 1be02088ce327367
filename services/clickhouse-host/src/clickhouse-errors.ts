/**
 * ClickHouse's error model as the HTTP interface exposes it: a numeric code,
 * a name, and the text `Code: N. DB::Exception: <message>. (NAME)`, which is
 * what clients parse (the code also travels in `X-ClickHouse-Exception-Code`).
 */

/** The errors this host raises itself (numbers from the engine's errorCodeToName); engine errors carry their own. */
export const ErrorCode = {
  BAD_ARGUMENTS: { code: 36, name: 'BAD_ARGUMENTS' },
  NOT_IMPLEMENTED: { code: 48, name: 'NOT_IMPLEMENTED' },
  CHECKSUM_DOESNT_MATCH: { code: 40, name: 'CHECKSUM_DOESNT_MATCH' },
  SYNTAX_ERROR: { code: 62, name: 'SYNTAX_ERROR' },
  UNKNOWN_COMPRESSION_METHOD: { code: 89, name: 'UNKNOWN_COMPRESSION_METHOD' },
  UNKNOWN_SETTING: { code: 115, name: 'UNKNOWN_SETTING' },
  TOO_LARGE_SIZE_COMPRESSED: { code: 146, name: 'TOO_LARGE_SIZE_COMPRESSED' },
  READONLY: { code: 164, name: 'READONLY' },
  TOO_MANY_SIMULTANEOUS_QUERIES: { code: 202, name: 'TOO_MANY_SIMULTANEOUS_QUERIES' },
  QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING: { code: 216, name: 'QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING' },
  QUERY_IS_TOO_LARGE: { code: 229, name: 'QUERY_IS_TOO_LARGE' },
  CANNOT_DECOMPRESS: { code: 271, name: 'CANNOT_DECOMPRESS' },
  LIMIT_EXCEEDED: { code: 290, name: 'LIMIT_EXCEEDED' },
  ZLIB_INFLATE_FAILED: { code: 354, name: 'ZLIB_INFLATE_FAILED' },
  INTO_OUTFILE_NOT_ALLOWED: { code: 358, name: 'INTO_OUTFILE_NOT_ALLOWED' },
  SESSION_NOT_FOUND: { code: 372, name: 'SESSION_NOT_FOUND' },
  SESSION_IS_LOCKED: { code: 373, name: 'SESSION_IS_LOCKED' },
  INVALID_SESSION_TIMEOUT: { code: 374, name: 'INVALID_SESSION_TIMEOUT' },
  QUERY_WAS_CANCELLED: { code: 394, name: 'QUERY_WAS_CANCELLED' },
  PATH_ACCESS_DENIED: { code: 481, name: 'PATH_ACCESS_DENIED' },
  ACCESS_DENIED: { code: 497, name: 'ACCESS_DENIED' },
  AUTHENTICATION_FAILED: { code: 516, name: 'AUTHENTICATION_FAILED' },
  USER_SESSION_LIMIT_EXCEEDED: { code: 700, name: 'USER_SESSION_LIMIT_EXCEEDED' },
  STD_EXCEPTION: { code: 1001, name: 'STD_EXCEPTION' },
} as const;

export type KnownError = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ClickHouseException extends Error {
  /** The exact text for the response body, without the trailing newline. */
  readonly text: string;

  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
    text?: string,
  ) {
    super(message);
    this.name = 'ClickHouseException';
    this.text = text ?? `Code: ${code}. DB::Exception: ${message}. (${type})`;
  }

  static of(error: KnownError, message: string): ClickHouseException {
    return new ClickHouseException(error.code, error.name, message);
  }
}

// Same shape the client matches (@clickhouse/client-common parseError): the
// first code, the innermost message, and a NAME of at least three capitals so
// `(2)` or `(official build)` never pass for one.
const ERROR_TEXT = /(?:Code|Error): (\d+)\..*Exception: (.+?)\(((?=[A-Z0-9_]*[A-Z]{3})[A-Z0-9_]+)\)/s;

/** Parses `Code: N. DB::Exception: ... (NAME)` out of chDB's error text. */
export function parseClickHouseErrorText(text: string): { code: number; type: string; message: string } | undefined {
  const match = ERROR_TEXT.exec(text);
  if (!match) return undefined;
  return { code: Number(match[1]), type: match[3]!, message: match[2]!.trim().replace(/\.$/, '') };
}

/** Whatever the engine (or chdb's binding) threw, as a ClickHouse exception keeping the engine's own wording. */
export function toClickHouseException(error: unknown): ClickHouseException {
  if (error instanceof ClickHouseException) return error;
  const text = (error instanceof Error ? error.message : String(error)).trim();
  const parsed = parseClickHouseErrorText(text);
  if (parsed) return new ClickHouseException(parsed.code, parsed.type, parsed.message, text);
  return ClickHouseException.of(ErrorCode.STD_EXCEPTION, text || 'unknown error');
}

// ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp), by code.
const BAD_REQUEST = new Set([
  36, // BAD_ARGUMENTS
  427, // CANNOT_COMPILE_REGEXP
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  72, // CANNOT_PARSE_NUMBER
  441, // CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
  675, // CANNOT_PARSE_IPV4
  676, // CANNOT_PARSE_IPV6
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  376, // CANNOT_PARSE_UUID
  15, // DUPLICATE_COLUMN
  44, // ILLEGAL_COLUMN
  37, // UNKNOWN_ELEMENT_IN_AST
  123, // UNKNOWN_TYPE_OF_AST_NODE
  8, // THERE_IS_NO_COLUMN
  167, // TOO_DEEP_AST
  168, // TOO_BIG_AST
  223, // UNEXPECTED_AST_STRUCTURE
  62, // SYNTAX_ERROR
  117, // INCORRECT_DATA
  53, // TYPE_MISMATCH
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
]);

const NOT_FOUND = new Set([
  60, // UNKNOWN_TABLE
  46, // UNKNOWN_FUNCTION
  47, // UNKNOWN_IDENTIFIER
  50, // UNKNOWN_TYPE
  56, // UNKNOWN_STORAGE
  81, // UNKNOWN_DATABASE
  115, // UNKNOWN_SETTING
  152, // UNKNOWN_DIRECTION_OF_SORTING
  63, // UNKNOWN_AGGREGATE_FUNCTION
  73, // UNKNOWN_FORMAT
  336, // UNKNOWN_DATABASE_ENGINE
  78, // UNKNOWN_TYPE_OF_QUERY
  511, // UNKNOWN_ROLE
]);

const FORBIDDEN = new Set([192, 193, 516, 512, 497]); // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, SET_NON_GRANTED_ROLE, ACCESS_DENIED

const OTHER: ReadonlyMap<number, number> = new Map([
  [194, 401], // REQUIRED_PASSWORD
  [229, 413], // QUERY_IS_TOO_LARGE
  [48, 501], // NOT_IMPLEMENTED
  [209, 503], // SOCKET_TIMEOUT
  [76, 503], // CANNOT_OPEN_FILE
  [439, 503], // CANNOT_SCHEDULE_TASK
  [381, 411], // HTTP_LENGTH_REQUIRED
  [159, 408], // TIMEOUT_EXCEEDED
  [779, 415], // UNSUPPORTED_MEDIA_TYPE
]);

export function httpStatusFor(code: number): number {
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (FORBIDDEN.has(code)) return 403;
  return OTHER.get(code) ?? 500;
}
