import { randomUUID } from 'node:crypto';
import type { Logger } from '@crm/runtime';
import { ClickHouseException, ErrorCode, toClickHouseException } from './clickhouse-errors.js';
import type { ChdbEngine, NativeConnection, NativeStream } from './chdb-engine.js';
import type { QueryRequest, Statement } from './http-request.js';
import { substituteParameters, type QueryParameters } from './query-parameters.js';
import { SessionRegistry, type HttpSession } from './session-registry.js';
import { isBlankText, quoteString } from './sql-statement.js';
import { streamPlan, type StreamPlan } from './stream-formats.js';

/**
 * Runs HTTP requests on the engine with ClickHouse's per-request isolation.
 * Every request gets a connection of its own (about 0.2 ms to open), so its
 * `database`, settings, and even a `SET` statement it runs, end with it, and
 * requests run in parallel. Requests in a `session_id` run on the session's
 * connection; their URL settings and database are undone afterwards, as
 * ClickHouse applies those to the query only.
 */

export interface QueryStats {
  readRows: number;
  readBytes: number;
  writtenRows: number;
  writtenBytes: number;
  resultRows: number;
  resultBytes: number;
  readonly startedAt: bigint;
}

/**
 * The JSON of `X-ClickHouse-Summary`: every number as a string, as ClickHouse
 * sends it. chDB reports the rows a query returned, not the rows it scanned, so
 * read_rows/read_bytes are result-based here; written_rows is exact for INSERT.
 */
export function summaryOf(stats: QueryStats): Record<string, string> {
  return {
    read_rows: String(stats.readRows),
    read_bytes: String(stats.readBytes),
    written_rows: String(stats.writtenRows),
    written_bytes: String(stats.writtenBytes),
    total_rows_to_read: String(stats.readRows),
    result_rows: String(stats.resultRows),
    result_bytes: String(stats.resultBytes),
    elapsed_ns: String(process.hrtime.bigint() - stats.startedAt),
  };
}

export interface QueryOutput {
  readonly queryId: string;
  /** The output format, for `X-ClickHouse-Format`; undefined for an INSERT. */
  readonly format: string | undefined;
  readonly timezone: string;
  /** Updated as output is produced. */
  readonly stats: QueryStats;
  /** The next piece of output, or undefined at the end; a failure after the first piece is a mid-stream error. */
  next(): Promise<Buffer | undefined>;
  /** Stops what is still running and gives the connection back; idempotent. */
  close(): Promise<void>;
}

interface Producer {
  next(): Promise<Buffer | undefined>;
  cancel(): Promise<void>;
}

/** How a connection was prepared for a request, and how to give it back. */
interface Lease {
  readonly connection: NativeConnection;
  release(): Promise<void>;
}

/** Serialises work that must not overlap. */
class Gate {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

// Statements the engine can stream; anything else it refuses to stream is run whole instead.
const STREAMABLE_KEYWORDS = new Set(['SELECT', 'WITH', '(', 'FROM']);
const STREAMING_NOT_SUPPORTED = /Streaming query is not supported/;
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function setStatement(settings: ReadonlyArray<readonly [string, string]>): string | undefined {
  if (settings.length === 0) return undefined;
  return `SET ${settings.map(([name, value]) => `${name} = ${quoteString(value)}`).join(', ')}`;
}

/** The statement with its parameters substituted (substituteParameters), or undefined to bind them; inserts with data keep them bound (the data may hold placeholders). */
function withSubstitutedParameters(statement: Statement, params: QueryParameters): { statement: Statement } | undefined {
  if (Object.keys(params).length === 0) return undefined;
  if (statement.type === 'query') {
    const sql = substituteParameters(statement.sql, params);
    return sql === undefined ? undefined : { statement: { ...statement, sql } };
  }
  if (!statement.spooled && statement.data.length > 0) return undefined;
  const header = substituteParameters(statement.header, params);
  if (header === undefined) return undefined;
  return { statement: { ...statement, header } };
}

export class ChdbExecutor {
  readonly #engine: ChdbEngine;
  readonly #logger: Logger | undefined;
  readonly #sessions: SessionRegistry;
  /**
   * chdb documents that binding parameters is not isolated per connection
   * (concurrent parameterised queries on different connections can clobber
   * each other's values or abort the engine), so those are serialised, as
   * chdb's own wrapper does; everything else runs in parallel.
   */
  readonly #parameterGate = new Gate();
  readonly #running = new Set<string>();
  readonly #active = new Set<Promise<void>>();
  /** Applied to every new connection before the request's own settings, which may override them. */
  readonly #connectionDefaults: ReadonlyArray<readonly [string, string]>;
  readonly timezone: string;
  #closed = false;

  private constructor(
    engine: ChdbEngine,
    logger: Logger | undefined,
    defaults: ReadonlyArray<readonly [string, string]>,
    timezone: string,
    maxSessions: number | undefined,
  ) {
    this.#engine = engine;
    this.#logger = logger;
    this.#connectionDefaults = defaults;
    this.timezone = timezone;
    this.#sessions = new SessionRegistry(engine, async (connection) => {
      const set = setStatement(this.#connectionDefaults);
      if (set) await this.#engine.native.QueryAsyncConnection(connection, set, 'TabSeparated');
    }, maxSessions);
  }

  /** `options.settings`: the host's profile (limits), applied to every connection after the engine's own defaults. */
  static async create(
    engine: ChdbEngine,
    logger?: Logger,
    options: { settings?: ReadonlyArray<readonly [string, string]>; maxSessions?: number } = {},
  ): Promise<ChdbExecutor> {
    const probe = engine.connect();
    let serverTimezone: string;
    try {
      const result = await engine.native.QueryAsyncConnection(probe, 'SELECT timezone()', 'TabSeparated');
      serverTimezone = result.bytes.toString('utf8').trim();
    } finally {
      engine.disconnect(probe);
    }
    // clickhouse-local turns these on where a server's default profile has them off; with them on,
    // text like `1+1` would pass for a query here and fail against a server.
    const defaults: Array<readonly [string, string]> = [
      ['implicit_select', '0'],
      ['allow_introspection_functions', '0'],
    ];
    // The engine takes its zone from the process (TZ); the host promises UTC, as a server in a container reports.
    if (!UTC_NAMES.has(serverTimezone)) defaults.push(['session_timezone', 'UTC']);
    defaults.push(...(options.settings ?? []));
    return new ChdbExecutor(engine, logger, defaults, 'UTC', options.maxSessions);
  }

  async execute(request: QueryRequest): Promise<QueryOutput> {
    if (this.#closed) throw ClickHouseException.of(ErrorCode.STD_EXCEPTION, 'the ClickHouse host is shutting down');
    const queryId = request.queryId ?? randomUUID();
    if (this.#running.has(queryId)) {
      throw ClickHouseException.of(ErrorCode.QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING, `Query with id = ${queryId} is already running`);
    }
    this.#running.add(queryId);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.#active.add(finished);
    const done = () => {
      this.#running.delete(queryId);
      this.#active.delete(finished);
      finish();
    };

    const stats: QueryStats = { readRows: 0, readBytes: 0, writtenRows: 0, writtenBytes: 0, resultRows: 0, resultBytes: 0, startedAt: process.hrtime.bigint() };
    let lease: Lease | undefined;
    let producer: Producer;
    try {
      lease = request.session ? await this.#sessionLease(request) : await this.#freshLease(request);
      producer = await this.#start(lease.connection, request, stats);
    } catch (error) {
      await lease?.release().catch((releaseError: unknown) => this.#logger?.warn({ err: releaseError }, 'could not release a chDB connection'));
      done();
      throw toClickHouseException(error);
    }

    const statement = request.statement;
    let closing: Promise<void> | undefined;
    const heldLease = lease;
    return {
      queryId,
      format: statement.type === 'insert' ? undefined : (statement.outputFormat ?? request.defaultFormat),
      timezone: request.settings.session_timezone || this.timezone,
      stats,
      next: async () => {
        try {
          return await producer.next();
        } catch (error) {
          throw toClickHouseException(error);
        }
      },
      close: () => {
        closing ??= (async () => {
          try {
            await producer.cancel();
          } finally {
            await heldLease.release().catch((error: unknown) => this.#logger?.warn({ err: error }, 'could not release a chDB connection'));
            done();
          }
        })();
        return closing;
      },
    };
  }

  /** Waits for running requests to end, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#active.size > 0) await Promise.all([...this.#active]);
    this.#sessions.closeAll();
  }

  async #freshLease(request: QueryRequest): Promise<Lease> {
    const connection = this.#engine.connect();
    const lease: Lease = {
      connection,
      release: async () => this.#engine.disconnect(connection),
    };
    try {
      const settings: Array<readonly [string, string]> = [...this.#connectionDefaults, ...Object.entries(request.settings)];
      // GET is read-only in ClickHouse unless the request already asks for readonly=1; last, so the other settings still apply.
      if (request.readOnly && request.settings.readonly !== '1') settings.push(['readonly', '2']);
      await this.#prepare(connection, request.database, settings);
      return lease;
    } catch (error) {
      await lease.release();
      throw error;
    }
  }

  async #sessionLease(request: QueryRequest): Promise<Lease> {
    const session = await this.#sessions.acquire(request.session!);
    const native = this.#engine.native;
    const connection = session.connection;
    const restore: string[] = [];
    try {
      // Snapshot what this request changes so the session continues as it was.
      const names = Object.keys(request.settings);
      if (request.database !== undefined) {
        const current = await native.QueryAsyncConnection(connection, 'SELECT currentDatabase() AS db', 'JSONEachRow');
        restore.push(`USE ${quoteIdentifier((JSON.parse(current.bytes.toString('utf8')) as { db: string }).db)}`);
      }
      if (names.length > 0) {
        const rows = await native.QueryAsyncConnection(
          connection,
          `SELECT name, value, changed FROM system.settings WHERE name IN (${names.map(quoteString).join(', ')})`,
          'JSONEachRow',
        );
        const known = rows.bytes
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as { name: string; value: string; changed: number | boolean });
        const reset = known.map((row) => `${row.name} = ${Number(row.changed) ? quoteString(row.value) : 'DEFAULT'}`);
        if (reset.length > 0) restore.push(`SET ${reset.join(', ')}`);
      }
      // Read-only GET is enforced on the statement here (Sandbox.assertReadOnly): readonly=2 could not be lifted again afterwards.
      await this.#prepare(connection, request.database, Object.entries(request.settings));
    } catch (error) {
      await this.#restore(session, restore);
      throw error;
    }
    return { connection, release: () => this.#restore(session, restore) };
  }

  async #restore(session: HttpSession, statements: string[]): Promise<void> {
    let broken = false;
    for (const sql of statements) {
      try {
        await this.#engine.native.QueryAsyncConnection(session.connection, sql, 'TabSeparated');
      } catch (error) {
        // e.g. the request set readonly=1: the session cannot be put back, so it ends here
        this.#logger?.warn({ err: error, session: session.id }, 'could not restore a ClickHouse session; dropping it');
        broken = true;
        break;
      }
    }
    this.#sessions.release(session, broken);
  }

  async #prepare(connection: NativeConnection, database: string | undefined, settings: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const native = this.#engine.native;
    if (database !== undefined) await native.QueryAsyncConnection(connection, `USE ${quoteIdentifier(database)}`, 'TabSeparated');
    const set = setStatement(settings);
    if (set) await native.QueryAsyncConnection(connection, set, 'TabSeparated');
  }

  async #start(connection: NativeConnection, request: QueryRequest, stats: QueryStats): Promise<Producer> {
    const native = this.#engine.native;
    // Substituted parameters run in parallel; only a statement they cannot be substituted into is bound (gated).
    const substituted = withSubstitutedParameters(request.statement, request.params);
    const statement: Statement = substituted?.statement ?? request.statement;
    const params = substituted ? {} : request.params;
    const bound = Object.keys(params).length > 0;
    const format = request.defaultFormat;

    if (statement.type === 'insert' && statement.spooled) {
      if (statement.spooled.blank) return single(undefined);
      // The statement reads the spooled file (FROM INFILE); the raw entry with no data runs it and reports rows written.
      if (!bound) {
        const result = await native.InsertRawAsyncConnection(connection, statement.header, Buffer.alloc(0), false);
        stats.writtenRows = result.rowsWritten;
        stats.writtenBytes = result.bytesWritten;
      } else {
        await this.#parameterGate.run(() => native.QueryAsyncConnection(connection, statement.header, format, params));
      }
      return single(undefined);
    }
    if (statement.type === 'insert') {
      if (statement.expectsData && isBlankText(statement.data)) return single(undefined); // nothing to insert: success, as clickhouse-js expects
      if (!bound) {
        const result = await native.InsertRawAsyncConnection(connection, statement.header, statement.data, false);
        stats.writtenRows = result.rowsWritten;
        stats.writtenBytes = result.bytesWritten;
        return single(undefined);
      }
      // The raw insert cannot bind parameters; the text path can (rows written are not reported there).
      const sql = statement.data.length > 0 ? `${statement.header}\n${statement.data.toString('utf8')}` : statement.header;
      await this.#parameterGate.run(() => native.QueryAsyncConnection(connection, sql, format, params));
      return single(undefined);
    }

    const sql = statement.sql;
    const plan = streamPlan(statement.outputFormat ?? format);
    if (STREAMABLE_KEYWORDS.has(statement.keyword) && plan) {
      try {
        return await this.#startStream(connection, sql, format, bound ? params : undefined, stats, plan);
      } catch (error) {
        if (!(error instanceof Error && STREAMING_NOT_SUPPORTED.test(error.message))) throw error;
      }
    }
    const result = bound
      ? await this.#parameterGate.run(() => native.QueryAsyncConnection(connection, sql, format, params))
      : await native.QueryAsyncConnection(connection, sql, format);
    stats.readRows = result.rowsRead;
    stats.readBytes = result.bytesRead;
    stats.resultRows = result.rowsRead;
    stats.resultBytes = result.bytes.length;
    return single(result.bytes.length > 0 ? result.bytes : undefined);
  }

  async #startStream(
    connection: NativeConnection,
    sql: string,
    format: string,
    params: Record<string, string> | undefined,
    stats: QueryStats,
    plan: StreamPlan,
  ): Promise<Producer> {
    const native = this.#engine.native;
    let stream: NativeStream | undefined;
    let ended = false;
    let inFlight: Promise<unknown> | undefined;
    let blocks = 0;

    const fetch = async (): Promise<Buffer | undefined> => {
      for (;;) {
        const pending = native.StreamFetch(stream!);
        inFlight = pending.catch(() => undefined);
        let chunk;
        try {
          chunk = await pending;
        } catch (error) {
          ended = true; // the engine has released a failed stream
          throw error;
        } finally {
          inFlight = undefined;
        }
        if (chunk.done) {
          ended = true;
          return undefined;
        }
        if (chunk.bytes.length === 0) continue;
        // every block comes formatted whole: a header after the first block's is cut
        const bytes = plan.kind === 'strip-header' && blocks++ > 0 ? chunk.bytes.subarray(plan.headerLength(chunk.bytes)) : chunk.bytes;
        stats.resultRows += chunk.numRows;
        stats.resultBytes += bytes.length;
        stats.readRows = stats.resultRows;
        if (bytes.length === 0) continue;
        return bytes;
      }
    };

    // Errors found while planning (unknown table, bad parameter) surface with the first fetch: take it now, so they become an error response.
    const begin = async () => {
      stream = params ? native.StreamQuery(connection, sql, format, params) : native.StreamQuery(connection, sql, format);
      return fetch();
    };
    let first: Buffer | undefined;
    try {
      first = params ? await this.#parameterGate.run(begin) : await begin();
    } catch (error) {
      if (stream !== undefined && !ended) native.StreamCancel(stream);
      throw error;
    }

    let pendingFirst: Buffer | undefined = first;
    return {
      next: async () => {
        if (pendingFirst) {
          const chunk = pendingFirst;
          pendingFirst = undefined;
          return chunk;
        }
        return ended ? undefined : fetch();
      },
      cancel: async () => {
        if (inFlight) await inFlight;
        if (!ended && stream !== undefined) {
          ended = true;
          // an open stream must be cancelled before its connection closes, or the engine crashes at exit
          native.StreamCancel(stream);
        }
      },
    };
  }
}

function single(bytes: Buffer | undefined): Producer {
  let pending = bytes;
  return {
    next: async () => {
      const chunk = pending;
      pending = undefined;
      return chunk;
    },
    cancel: async () => undefined,
  };
}
