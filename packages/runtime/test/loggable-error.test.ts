import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClickHouseError } from '@clickhouse/client';
import { CrmError, errorMessage, loggableError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';

// What ClickHouse answers when a CHECK constraint refuses a row: it quotes the row's values.
const serverError = () =>
  new ClickHouseError({
    message: "Constraint `c` for table crm.orders is violated at row 4. Column values: customer_id = 'jane.doe@example.com'.",
    code: '469',
    type: 'VIOLATED_CONSTRAINT',
  });

describe('errors in logs', () => {
  it('a ClickHouse message is withheld, its code and type kept; our own message and the cause chain stay', () => {
    const error = new CrmError('CLICKHOUSE_DATA_REJECTED', 'insert 7 rows into orders: ClickHouse error 469 (VIOLATED_CONSTRAINT)', { cause: serverError() });
    const logged = loggableError(error);
    expect(logged).toMatchObject({
      type: 'CrmError',
      code: 'CLICKHOUSE_DATA_REJECTED',
      retriable: false,
      message: 'insert 7 rows into orders: ClickHouse error 469 (VIOLATED_CONSTRAINT)',
      cause: { type: 'ClickHouseError VIOLATED_CONSTRAINT', code: '469' },
    });
    expect(JSON.stringify(logged)).not.toContain('jane.doe');
    expect(logged.stack).toMatch(/^ {4}at /);
  });

  it('the service logger applies it to err and error fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger('test', 'info', sink);
    logger.error({ err: serverError() }, 'failed');
    logger.error({ error: new CrmError('CLICKHOUSE_QUERY_FAILED', 'scoring run', { cause: serverError() }) }, 'failed');
    expect(lines.join('')).not.toContain('jane.doe');
    expect(lines.join('')).toContain('VIOLATED_CONSTRAINT');
  });

  it('a person at the terminal gets the whole story, each message once', () => {
    const error = new CrmError('CLICKHOUSE_QUERY_FAILED', 'scoring run: ClickHouse error 469 (VIOLATED_CONSTRAINT)', { cause: serverError() });
    expect(errorMessage(error)).toBe(`scoring run: ClickHouse error 469 (VIOLATED_CONSTRAINT): ${serverError().message}`);
    expect(errorMessage('plain')).toBe('plain');
  });
});
