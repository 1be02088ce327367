import { describe, expect, it } from 'vitest';
import { httpStatusFor, parseClickHouseErrorText, toClickHouseException } from '../src/clickhouse-errors.js';

describe('ClickHouse errors', () => {
  it('parses code, message and name out of chDB error text', () => {
    expect(parseClickHouseErrorText("Code: 60. DB::Exception: Unknown table expression identifier 'x' in scope SELECT * FROM x. (UNKNOWN_TABLE)")).toEqual({
      code: 60,
      type: 'UNKNOWN_TABLE',
      message: "Unknown table expression identifier 'x' in scope SELECT * FROM x",
    });
    // chDB nests some errors; the innermost message and the name count
    expect(
      parseClickHouseErrorText('Code: 108. DB::Exception: Code: 108. DB::Exception: No data to insert. (NO_DATA_TO_INSERT) (version 26.7.2.1). (NO_DATA_TO_INSERT)'),
    ).toMatchObject({ code: 108, type: 'NO_DATA_TO_INSERT', message: 'No data to insert' });
    expect(parseClickHouseErrorText('Failed to create connection')).toBeUndefined();
  });

  it('keeps the engine wording, and wraps anything else as STD_EXCEPTION', () => {
    const engine = toClickHouseException(new Error('Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR)'));
    expect(engine).toMatchObject({ code: 62, type: 'SYNTAX_ERROR', text: 'Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR)' });
    expect(toClickHouseException(new Error('boom'))).toMatchObject({ code: 1001, type: 'STD_EXCEPTION', text: 'Code: 1001. DB::Exception: boom. (STD_EXCEPTION)' });
  });

  it('maps codes to the HTTP status a server would send', () => {
    expect(httpStatusFor(62)).toBe(400);
    expect(httpStatusFor(27)).toBe(400);
    expect(httpStatusFor(60)).toBe(404);
    expect(httpStatusFor(81)).toBe(404);
    expect(httpStatusFor(516)).toBe(403);
    expect(httpStatusFor(159)).toBe(408);
    expect(httpStatusFor(395)).toBe(500);
  });
});
