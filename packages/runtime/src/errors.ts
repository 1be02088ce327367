/**
 * Every error the pipeline raises on purpose carries a stable `code` from the
 * catalog below and says whether trying again can help (`retriable`), so the
 * retry module never retries a programmer error and callers can decide
 * between backing off and stopping.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'one or more settings are missing or malformed',
  KAFKA_UNAVAILABLE: 'the Kafka broker could not be reached',
  KAFKA_PROVISION_FAILED: 'the local Kafka broker could not be provisioned or started',
  CLICKHOUSE_UNAVAILABLE: 'ClickHouse could not be reached',
  CLICKHOUSE_QUERY_FAILED: 'ClickHouse rejected a query',
  CLICKHOUSE_DATA_REJECTED: 'ClickHouse refused the data of an insert (a value it cannot parse or hold)',
  MIGRATION_FAILED: 'a schema migration could not be applied',
  PREREQUISITE_MISSING: 'a tool the project needs is not installed',
  TIMEOUT: 'an operation did not finish in time',
  WRITE_LEASE_LOST: 'the scoring write lease expired or passed to another writer before the write committed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CrmErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class CrmError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: CrmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrmError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration problem: names every offending setting so start-up can report them all at once. */
export class ConfigError extends CrmError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
