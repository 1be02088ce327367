import { Session } from 'chdb';
import type { ClickHouseRequest } from './http-request.js';
import { engineParams } from './query-params.js';

export interface ExecutionResult {
  bytes: Uint8Array;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class BadRequestError extends Error {}

/**
 * Runs requests on the one chDB session that owns the data directory.
 * `USE` and `SET` persist in a chDB session, so requests run one at a time
 * and each one's database and settings are undone before the next starts:
 * one client's settings never leak into another's query.
 */
export class ChdbExecutor {
  readonly #session: Session;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.#session = new Session(dataDir);
  }

  execute(request: ClickHouseRequest): Promise<ExecutionResult> {
    const run = this.#queue.then(() => this.#run(request));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(request: ClickHouseRequest): Promise<ExecutionResult> {
    const prelude: string[] = [];
    const undo: string[] = [];
    if (request.database !== undefined) {
      if (!IDENTIFIER.test(request.database)) throw new BadRequestError(`invalid database name ${JSON.stringify(request.database)}`);
      prelude.push(`USE ${request.database}`);
      undo.push('USE default');
    }
    for (const [name, value] of Object.entries(request.settings)) {
      if (!SETTING_NAME.test(name)) throw new BadRequestError(`invalid setting name ${JSON.stringify(name)}`);
      prelude.push(`SET ${name} = ${settingLiteral(value)}`);
      undo.push(`SET ${name} = DEFAULT`);
    }
    const sql = prelude.length === 0 ? request.sql : `${prelude.join('; ')}; ${request.sql}`;
    try {
      const result =
        Object.keys(request.params).length > 0
          ? await this.#session.queryBindAsync(sql, engineParams(request.sql, request.params), { format: request.format })
          : await this.#session.queryAsync(sql, { format: request.format });
      return { bytes: result.bytes(), rowsRead: result.rowsRead, bytesRead: result.bytesRead, elapsedSeconds: result.elapsed };
    } finally {
      if (undo.length > 0) await this.#session.queryAsync(undo.join('; ')).catch(() => undefined);
    }
  }

  close(): void {
    this.#session.close();
  }
}

/** Numbers stay numbers; anything else becomes a quoted string literal ('' doubles a quote). */
function settingLiteral(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
