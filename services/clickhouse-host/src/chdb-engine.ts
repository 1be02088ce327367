import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { CrmError } from '@crm/runtime';

/**
 * The embedded engine for one data directory, reached through chdb's native
 * addon rather than its `Session` wrapper, for three reasons the HTTP
 * interface cannot do without:
 * - query parameters arrive already in ClickHouse's escaped text form, and
 *   the wrapper's `queryBindAsync` escapes strings again (`it\'s` would bind as
 *   `it\\'s`); the native call hands them to the engine as a server does;
 * - the wrapper's raw insert accepts only a whitelist of formats and plain
 *   table names, while the native one takes any `INSERT ... FORMAT X` header
 *   with the rows as a Buffer (no copy into a JS string) and reports rows written;
 * - each request gets its own connection, so `SET`/`USE` never outlive it.
 *
 * chdb is pinned to an exact version in package.json because these entry
 * points are its internals; `loadChdbNative` checks they are all present.
 */

export interface NativeQueryResult {
  bytes: Buffer;
  elapsed: number;
  rowsRead: number;
  bytesRead: number;
}

export interface NativeInsertResult {
  elapsed: number;
  rowsWritten: number;
  bytesWritten: number;
}

export interface NativeStreamChunk {
  bytes: Buffer;
  numRows: number;
  done: boolean;
}

declare const connectionBrand: unique symbol;
declare const streamBrand: unique symbol;
export type NativeConnection = { readonly [connectionBrand]: true };
export type NativeStream = { readonly [streamBrand]: true };

interface ChdbNative {
  CreateConnection(path: string, args?: readonly string[]): NativeConnection;
  CloseConnection(connection: NativeConnection): void;
  QueryAsyncConnection(connection: NativeConnection, sql: string, format: string, params?: Record<string, string>): Promise<NativeQueryResult>;
  InsertRawAsyncConnection(connection: NativeConnection, header: string, data: Buffer, countLines: boolean): Promise<NativeInsertResult>;
  StreamQuery(connection: NativeConnection, sql: string, format: string, params?: Record<string, string>): NativeStream;
  StreamFetch(stream: NativeStream): Promise<NativeStreamChunk>;
  StreamCancel(stream: NativeStream): void;
}

const REQUIRED = [
  'CreateConnection',
  'CloseConnection',
  'QueryAsyncConnection',
  'InsertRawAsyncConnection',
  'StreamQuery',
  'StreamFetch',
  'StreamCancel',
] as const;

let cachedNative: ChdbNative | undefined;

function loadChdbNative(): ChdbNative {
  if (cachedNative) return cachedNative;
  const require = createRequire(import.meta.url);
  const chdbDir = dirname(require.resolve('chdb'));
  const { loadNative } = require(join(chdbDir, 'dist', 'loader.js')) as { loadNative(): Record<string, unknown> };
  const native = loadNative();
  const missing = REQUIRED.filter((name) => typeof native[name] !== 'function');
  if (missing.length > 0) {
    throw new CrmError('PREREQUISITE_MISSING', `the installed chdb addon lacks ${missing.join(', ')}; this host needs chdb 3.4.0`);
  }
  cachedNative = native as unknown as ChdbNative;
  return cachedNative;
}

/** The one directory this process serves; chDB binds one per process. */
let openDirectory: string | undefined;

/**
 * Holds one connection for its whole life: it keeps the engine (and the lock
 * on the directory) up between requests, since closing the last connection
 * shuts the engine down.
 */
export class ChdbEngine {
  readonly dataDir: string;
  readonly native: ChdbNative;
  #owner: NativeConnection | undefined;
  #connections = new Set<NativeConnection>();

  private constructor(dataDir: string, native: ChdbNative, owner: NativeConnection) {
    this.dataDir = dataDir;
    this.native = native;
    this.#owner = owner;
  }

  /** `args`: engine configuration as clickhouse-local takes it (`--user_files_path=...`); the first connection starts the engine with them. */
  static open(dataDir: string, args: readonly string[] = []): ChdbEngine {
    const dir = resolve(dataDir);
    if (openDirectory !== undefined) {
      throw new CrmError(
        'CLICKHOUSE_UNAVAILABLE',
        `this process already serves the ClickHouse data directory ${openDirectory}; chDB allows one data directory, and one host, per process`,
      );
    }
    const native = loadChdbNative();
    let owner: NativeConnection;
    try {
      owner = args.length > 0 ? native.CreateConnection(dir, args) : native.CreateConnection(dir);
    } catch (error) {
      throw openFailure(dir, error);
    }
    openDirectory = dir;
    return new ChdbEngine(dir, native, owner);
  }

  get isOpen(): boolean {
    return this.#owner !== undefined;
  }

  /** A fresh connection: its own current database, settings and temporary tables. */
  connect(): NativeConnection {
    if (!this.#owner) throw new Error('the chDB engine is closed');
    const connection = this.native.CreateConnection(this.dataDir);
    this.#connections.add(connection);
    return connection;
  }

  /** Only once nothing runs on it: closing a busy connection aborts the engine. */
  disconnect(connection: NativeConnection): void {
    if (!this.#connections.delete(connection)) return;
    this.native.CloseConnection(connection);
  }

  /** Callers close their connections first; this releases the directory. */
  close(): void {
    if (!this.#owner) return;
    for (const connection of this.#connections) this.native.CloseConnection(connection);
    this.#connections.clear();
    this.native.CloseConnection(this.#owner);
    this.#owner = undefined;
    openDirectory = undefined;
  }
}

function openFailure(dir: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : String(error);
  const owner = lockOwner(dir);
  if (owner !== undefined) {
    return new CrmError(
      'CLICKHOUSE_UNAVAILABLE',
      `the ClickHouse data directory ${dir} is owned by another process (pid ${owner}); chDB lets one process open a data directory at a time, so stop that process or set CRM_CLICKHOUSE_DATA_DIR to another directory`,
      { cause: error },
    );
  }
  return new CrmError('CLICKHOUSE_UNAVAILABLE', `chDB could not open the data directory ${dir}: ${detail}`, { cause: error });
}

/** The engine writes `PID: <n>` into `<dir>/status` while it holds the directory's lock. */
function lockOwner(dir: string): number | undefined {
  const file = join(dir, 'status');
  if (!existsSync(file)) return undefined;
  const match = /^PID:\s*(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!match) return undefined;
  const pid = Number(match[1]);
  if (pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, but someone else's
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
