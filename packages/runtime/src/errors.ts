/**
 * Every error the pipeline raises on purpose carries a stable `code` from the
 * catalog below and says whether trying again can help (`retriable`), so the
 * retry module never retries a programmer error and callers can decide
 * between backing off and stopping.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'one or more settings are missing or malformed',
  KAFKA_UNAVAILABLE: 'the Kafka broker could not be reached',
  KAFKA_AUTH_FAILED: 'the Kafka broker refused the credentials, or its certificate was not trusted',
  KAFKA_PROVISION_FAILED: 'the local Kafka broker could not be provisioned or started',
  CLICKHOUSE_UNAVAILABLE: 'ClickHouse could not be reached',
  CLICKHOUSE_QUERY_FAILED: 'ClickHouse rejected a query',
  CLICKHOUSE_DATA_REJECTED: 'ClickHouse refused the data of an insert (a value it cannot parse or hold)',
  MIGRATION_FAILED: 'a schema migration could not be applied',
  PREREQUISITE_MISSING: 'a tool the project needs is not installed',
  TIMEOUT: 'an operation did not finish in time',
  PORT_IN_USE: 'the port a service is configured to listen on is taken by another program',
  WORKER_FAILED: 'a worker thread stopped before it finished its task',
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

/**
 * Whether an error's message may quote data: ClickHouse's exceptions echo the values and
 * statements they failed on (`Column values: customer_id = '…'`). Such text stays in the
 * error (a person at the terminal or a dead letter may see it) and never goes into a log.
 */
export function quotesData(error: unknown): boolean {
  // @clickhouse/client's ClickHouseError keeps the name 'Error'; its class name tells it apart.
  return error instanceof Error && (error.constructor.name === 'ClickHouseError' || (error as { quotesData?: unknown }).quotesData === true);
}

/** The whole story for a person at a terminal: the message and each cause's, once. */
export function errorMessage(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}

/** A log's view of an error: type, code, retriable and the cause chain, with no message text that could quote data. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
  retriable?: boolean;
  stack?: string;
  cause?: LoggedError;
}

/**
 * What a log may say about an error. Our own messages name the operation, never the data;
 * a message that may quote data (see quotesData) is replaced by its type and code, and so
 * is the first line of its stack. A cause is logged the same way.
 */
export function loggableError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const { code, type, retriable } = error as { code?: unknown; type?: unknown; retriable?: unknown };
  const name = error.constructor.name === 'ClickHouseError' ? 'ClickHouseError' : error.name;
  const message = quotesData(error) ? `[${name} message withheld: it may quote data]` : error.message;
  const frames = error.stack?.split('\n').filter((line) => line.startsWith('    at ')).join('\n');
  return {
    type: typeof type === 'string' ? `${name} ${type}` : name,
    message,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(typeof retriable === 'boolean' && { retriable }),
    ...(frames && { stack: frames }),
    ...(error.cause !== undefined && depth < 5 && { cause: loggableError(error.cause, depth + 1) }),
  };
}
