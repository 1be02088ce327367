import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Event payloads never go into logs: customer ids, emails and
 * free text are personal data. The redaction list is a safety net, not the plan.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info', to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const options = {
    name,
    level,
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'customer_id', '*.customer_id', 'email', '*.email', 'comment', '*.comment'],
      censor: '[redacted]',
    },
  };
  // A command whose stdout is its result (crm demo's summary) logs to stderr.
  return to === 'stdout' ? pino(options) : pino(options, pino.destination(2));
}
