import { totalmem } from 'node:os';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';

/**
 * The limits of a server's default profile and config.xml, for one host:
 * each has an environment variable (config.ts) and is documented in
 * docs/CLICKHOUSE-HOST.md. Exceeding one gets the code a server sends.
 */
export interface HostLimits {
  /** Request body bytes after decompression (QUERY_IS_TOO_LARGE, HTTP 413). */
  maxBodyBytes: number;
  /** Open HTTP connections (a server's max_connections); more are closed on accept. */
  maxConnections: number;
  /** Queries running at once (max_concurrent_queries; TOO_MANY_SIMULTANEOUS_QUERIES). */
  maxConcurrentQueries: number;
  /** Open HTTP sessions (max_sessions_for_user; USER_SESSION_LIMIT_EXCEEDED). */
  maxSessions: number;
  /** session_timeout when a request gives none (default_session_timeout). */
  defaultSessionTimeoutSeconds: number;
  /** The largest session_timeout a request may ask for (max_session_timeout). */
  maxSessionTimeoutSeconds: number;
  /** Default max_execution_time for every query, seconds; a request may set its own (TIMEOUT_EXCEEDED). */
  maxExecutionTimeSeconds: number;
  /** Default max_memory_usage for every query, bytes; a request may set its own (MEMORY_LIMIT_EXCEEDED). */
  maxMemoryUsageBytes: number;
}

const GIB = 1024 ** 3;

/** A server's users.xml gives the default profile 10 GB; a laptop gets at most half its memory. */
export const DEFAULT_MAX_MEMORY_USAGE = Math.min(10_000_000_000, Math.floor(totalmem() / 2));

export const DEFAULT_LIMITS: Readonly<HostLimits> = Object.freeze({
  maxBodyBytes: GIB, // like http_max_multipart_form_data_size
  maxConnections: 4096, // config.xml max_connections
  maxConcurrentQueries: 100, // config.xml max_concurrent_queries
  maxSessions: 1000,
  defaultSessionTimeoutSeconds: 60, // default_session_timeout
  maxSessionTimeoutSeconds: 3600, // max_session_timeout
  maxExecutionTimeSeconds: 600,
  maxMemoryUsageBytes: DEFAULT_MAX_MEMORY_USAGE,
});

/** The one place a too-large body becomes ClickHouse's error (counted after every decompression layer, request-body.ts). */
export function bodyTooLarge(limit: number): ClickHouseException {
  return ClickHouseException.of(
    ErrorCode.QUERY_IS_TOO_LARGE,
    `The request body is larger than the embedded ClickHouse host accepts (${limit} bytes after decompression; CRM_CLICKHOUSE_MAX_BODY_BYTES)`,
  );
}

/** Counts running queries against max_concurrent_queries. */
export class QuerySlots {
  #running = 0;

  constructor(readonly limit: number) {}

  get running(): number {
    return this.#running;
  }

  /** Takes a slot or throws TOO_MANY_SIMULTANEOUS_QUERIES; call the returned function once, when the query's response is over. */
  acquire(): () => void {
    if (this.#running >= this.limit) {
      throw ClickHouseException.of(ErrorCode.TOO_MANY_SIMULTANEOUS_QUERIES, `Too many simultaneous queries. Maximum: ${this.limit}`);
    }
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
    };
  }
}
