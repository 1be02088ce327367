import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Event payloads never go into logs: customer ids, emails and
 * free text are personal data. The redaction list is a safety net, not the plan.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'customer_id', '*.customer_id', 'email', '*.email', 'comment', '*.comment'],
      censor: '[redacted]',
    },
  });
}
