import { pino, type DestinationStream, type Logger } from 'pino';
import { loggableError } from './errors.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const isLevel = (level: string): level is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(level);

/**
 * Structured logs. Event payloads never go into logs: customer ids, emails and
 * free text are personal data. Errors are logged by type and code through
 * loggableError (ClickHouse's messages quote row values). The redaction list is a
 * safety net, not the plan.
 * An unknown level logs at info: the logger exists before configuration is
 * parsed, and that parse then stops start-up naming LOG_LEVEL.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL || 'info', to: 'stdout' | 'stderr' | DestinationStream = 'stdout'): Logger {
  const options = {
    name,
    level: isLevel(level) ? level : 'info',
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: loggableError, error: loggableError },
    redact: {
      paths: ['password', '*.password', 'customer_id', '*.customer_id', 'anonymous_id', '*.anonymous_id', 'email', '*.email', 'comment', '*.comment'],
      censor: '[redacted]',
    },
  };
  // A command whose stdout is its result (crm demo's summary) logs to stderr. Written
  // synchronously: pino's default asynchronous stdout is flushed at exit by a loop that retries
  // a broken pipe forever, so a service whose log reader was gone never stopped on SIGTERM
  // (runtime/test/log-pipe.test.ts); a synchronous write meets the broken pipe at once, and
  // pino then stops writing to it.
  return pino(options, typeof to === 'string' ? pino.destination({ dest: to === 'stdout' ? 1 : 2, sync: true }) : to);
}
