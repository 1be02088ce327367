import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';
import type { ChdbEngine, NativeConnection } from './chdb-engine.js';
import type { SessionRequest } from './http-request.js';

/**
 * ClickHouse HTTP sessions (`session_id`): a connection of its own that keeps
 * `SET`, `USE` and temporary tables between requests, used by one request at
 * a time and dropped after `session_timeout` seconds idle.
 */

export interface HttpSession {
  readonly id: string;
  readonly connection: NativeConnection;
}

interface Entry extends HttpSession {
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number;
  ready: Promise<void>;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, Entry>();
  #closed = false;

  constructor(
    private readonly engine: ChdbEngine,
    /** Prepares a new session's connection (server-like defaults). */
    private readonly initialise: (connection: NativeConnection) => Promise<void>,
    /** Like max_sessions_for_user: a new session beyond it is refused. */
    private readonly maxSessions = Number.POSITIVE_INFINITY,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  async acquire(request: SessionRequest): Promise<HttpSession> {
    let entry = this.#sessions.get(request.id);
    if (!entry) {
      if (this.#closed) throw new Error('the ClickHouse host is shutting down');
      if (request.check) throw ClickHouseException.of(ErrorCode.SESSION_NOT_FOUND, `Session ${request.id} not found`);
      if (this.#sessions.size >= this.maxSessions) {
        throw ClickHouseException.of(ErrorCode.USER_SESSION_LIMIT_EXCEEDED, `Too many simultaneous sessions: maximum ${this.maxSessions} (CRM_CLICKHOUSE_MAX_SESSIONS)`);
      }
      const connection = this.engine.connect();
      const created: Entry = { id: request.id, connection, busy: true, timer: undefined, timeoutMs: request.timeoutSeconds * 1000, ready: Promise.resolve() };
      created.ready = this.initialise(connection);
      this.#sessions.set(request.id, created);
      try {
        await created.ready;
      } catch (error) {
        this.#drop(created);
        throw error;
      }
      return created;
    }
    if (entry.busy) {
      throw ClickHouseException.of(ErrorCode.SESSION_IS_LOCKED, `Session ${request.id} is locked by a concurrent client`);
    }
    entry.busy = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.timeoutMs = request.timeoutSeconds * 1000;
    return entry;
  }

  /** `broken`: its state could not be restored, so it must not serve another request. */
  release(session: HttpSession, broken = false): void {
    const entry = this.#sessions.get(session.id);
    if (!entry || entry.connection !== session.connection) return;
    entry.busy = false;
    if (broken || this.#closed) {
      this.#drop(entry);
      return;
    }
    entry.timer = setTimeout(() => {
      if (!entry.busy) this.#drop(entry);
    }, entry.timeoutMs);
    entry.timer.unref();
  }

  /** Drops idle sessions now and busy ones as their requests release them (closing a busy connection aborts the engine). */
  closeAll(): void {
    this.#closed = true;
    for (const entry of [...this.#sessions.values()]) if (!entry.busy) this.#drop(entry);
  }

  #drop(entry: Entry): void {
    clearTimeout(entry.timer);
    if (this.#sessions.get(entry.id) === entry) this.#sessions.delete(entry.id);
    this.engine.disconnect(entry.connection);
  }
}
