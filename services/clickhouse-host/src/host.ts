import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, type Logger } from '@crm/runtime';
import { Authenticator, credentialsOf } from './auth.js';
import { ChdbEngine } from './chdb-engine.js';
import { ChdbExecutor, summaryOf, type QueryOutput } from './chdb-executor.js';
import { ClickHouseException, ErrorCode, toClickHouseException } from './clickhouse-errors.js';
import { parseHttpRequest, type QueryRequest } from './http-request.js';
import { ResultWriter, sendError, sendNotFound, sendOk } from './http-response.js';
import { DEFAULT_LIMITS, QuerySlots, type HostLimits } from './limits.js';
import { BodySpool, type ReceivedBody } from './insert-stream.js';
import { readRequestBody } from './request-body.js';
import { isLoopbackName, RequestGuard } from './request-guard.js';
import { Sandbox } from './sandbox.js';

/** Like ClickHouse's shutdown_wait_unfinished: how long close() lets running queries finish before cancelling streamed ones. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ClickHouseHostOptions {
  /** The chDB data directory (created if missing). One process, and one host, per directory. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  logger?: Logger;
  /** The one user, as in a server's users.xml; default `default`. */
  user?: string;
  /** Default empty, which only a loopback address may serve. */
  password?: string;
  /** Browser origins allowed to send requests (none by default). */
  allowedOrigins?: readonly string[];
  /** Host header names answered besides loopback ones (none by default). */
  allowedHosts?: readonly string[];
  /** user_files_path: the only folder file functions reach; default `<dataDir>/user_files`. */
  userFilesDir?: string;
  /** Remote table functions, engines and dictionary sources to allow by name (none by default). */
  remoteSources?: readonly string[];
  limits?: Partial<HostLimits>;
}

export interface ClickHouseHost {
  readonly port: number;
  readonly url: string;
  /** Stops accepting requests, lets running ones finish, and releases the data directory. */
  close(): Promise<void>;
}

/**
 * Serves ClickHouse's HTTP interface over the embedded engine, so every other
 * process talks to it with @clickhouse/client exactly as to a real server.
 */
export async function startClickHouseHost(options: ClickHouseHostOptions): Promise<ClickHouseHost> {
  const logger = options.logger;
  const listenHost = options.host ?? '127.0.0.1';
  const password = options.password ?? '';
  if (password === '' && !isLoopbackName(listenHost)) {
    throw new ConfigError([
      `CRM_CLICKHOUSE_HOST=${listenHost} is not a loopback address: set CLICKHOUSE_PASSWORD, so the host does not listen beyond this machine without one`,
    ]);
  }
  const limits: HostLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const userFilesDir = options.userFilesDir ?? join(options.dataDir, 'user_files');
  mkdirSync(userFilesDir, { recursive: true, mode: 0o700 });
  const wildcardBind = listenHost === '0.0.0.0' || listenHost === '::';
  const access: Access = {
    guard: new RequestGuard({
      allowedOrigins: options.allowedOrigins ?? [],
      allowedHosts: [...(options.allowedHosts ?? []), ...(wildcardBind || isLoopbackName(listenHost) ? [] : [listenHost])],
    }),
    authenticator: new Authenticator({ user: options.user ?? 'default', password }),
    sandbox: new Sandbox({ userFilesDir, allowedRemoteSources: options.remoteSources ?? [] }),
    slots: new QuerySlots(limits.maxConcurrentQueries),
    limits,
  };
  const engine = ChdbEngine.open(options.dataDir, [`--user_files_path=${access.sandbox.userFilesDir}`]);
  let executor: ChdbExecutor;
  let spool: BodySpool;
  try {
    spool = await BodySpool.open(engine.dataDir);
    executor = await ChdbExecutor.create(engine, logger, {
      settings: [
        ['max_execution_time', String(limits.maxExecutionTimeSeconds)],
        ['max_memory_usage', String(limits.maxMemoryUsageBytes)],
      ],
      maxSessions: limits.maxSessions,
    });
  } catch (error) {
    engine.close();
    throw error;
  }

  // close() lets running requests finish before the engine goes; closing a connection mid-query aborts the engine.
  let inFlight = 0;
  let closing = false;
  let idle: (() => void) | undefined;
  const shutdown = new AbortController();
  const server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    inFlight++;
    handle(executor, access, spool, req, res, shutdown.signal, logger)
      .catch((error: unknown) => {
        logger?.error({ err: error }, 'ClickHouse host request failed');
        sendError(res, toClickHouseException(error));
      })
      .finally(() => {
        inFlight--;
        if (closing && inFlight === 0) idle?.();
      });
  });
  server.maxConnections = limits.maxConnections;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await executor.close();
    engine.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = listenHost.includes(':') ? `[${listenHost}]` : listenHost;

  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () => {
      closed ??= (async () => {
        closing = true;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          const drained = new Promise<void>((resolve) => (idle = resolve));
          let timer: NodeJS.Timeout | undefined;
          const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
          await Promise.race([drained, grace]);
          clearTimeout(timer);
          // Streams stop now and end their bodies with the error; a client too slow to read it loses the
          // connection instead. A single-shot query or insert cannot be interrupted and is waited for.
          shutdown.abort();
          await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
          server.closeAllConnections();
          await drained;
        }
        server.closeAllConnections();
        await serverClosed;
        await executor.close();
        engine.close();
        logger?.debug({ dataDir: engine.dataDir }, 'ClickHouse host closed');
      })();
      return closed;
    },
  };
}

/** Who may ask, what they may run, and how much. */
interface Access {
  guard: RequestGuard;
  authenticator: Authenticator;
  sandbox: Sandbox;
  slots: QuerySlots;
  limits: HostLimits;
}

/** /ping and a bare `GET /` answer `Ok.` to anyone, as a server's static handlers do; everything else is checked first. */
function isHealthCheck(method: string, url: URL): boolean {
  if (url.pathname === '/ping' || url.pathname === '/replicas_status') return true;
  return url.pathname === '/' && (method === 'GET' || method === 'HEAD') && !url.searchParams.has('query');
}

async function handle(
  executor: ChdbExecutor,
  access: Access,
  spool: BodySpool,
  req: IncomingMessage,
  res: ServerResponse,
  shutdown: AbortSignal,
  logger: Logger | undefined,
): Promise<void> {
  let received: ReceivedBody | undefined;
  try {
    let query: QueryRequest;
    try {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!isHealthCheck(method.toUpperCase(), url)) {
        access.guard.check(req.headers);
        access.authenticator.check(credentialsOf(req.headers, url.searchParams));
      }
      // The limit applies to the decoded body, counted as it streams in (request-body.ts).
      received = await readRequestBody(req, spool, access.limits.maxBodyBytes);
      const request = parseHttpRequest({ method, url: req.url ?? '/', headers: req.headers, ...received }, access.limits);
      if (request.kind === 'ping') return sendOk(res);
      if (request.kind === 'not-found') return sendNotFound(res, request.path);
      if (request.query.readOnly) Sandbox.assertReadOnly(request.query.statement);
      query = access.sandbox.apply(request.query);
    } catch (error) {
      sendError(res, toClickHouseException(error));
      return;
    }
    let release: () => void;
    try {
      release = access.slots.acquire();
    } catch (error) {
      sendError(res, toClickHouseException(error), { ...(query.queryId === undefined ? {} : { queryId: query.queryId }), timezone: executor.timezone });
      return;
    }
    try {
      await respond(executor, query, res, shutdown, logger);
    } finally {
      release();
    }
  } finally {
    await spool.remove(received?.spooled);
  }
}

const shuttingDown = () => ClickHouseException.of(ErrorCode.QUERY_WAS_CANCELLED, 'Query was cancelled: the ClickHouse host is shutting down');

async function respond(
  executor: ChdbExecutor,
  query: QueryRequest,
  res: ServerResponse,
  shutdown: AbortSignal,
  logger: Logger | undefined,
): Promise<void> {
  const started = Date.now();
  const keyword = query.statement.type === 'insert' ? 'INSERT' : query.statement.keyword;
  let output: QueryOutput;
  try {
    output = await executor.execute(query);
  } catch (error) {
    const failure = toClickHouseException(error);
    logger?.debug({ queryId: query.queryId, statement: keyword, code: failure.code, type: failure.type }, 'query failed');
    sendError(res, failure, { ...(query.queryId === undefined ? {} : { queryId: query.queryId }), timezone: executor.timezone });
    return;
  }

  const writer = new ResultWriter(res);
  try {
    // Output is held back up to buffer_size (all of it with wait_end_of_query), so a failure
    // in that part still gets a proper error status, as on a server.
    const held: Buffer[] = [];
    let heldBytes = 0;
    let complete = false;
    try {
      while (query.response.waitEndOfQuery || heldBytes < query.response.bufferSize) {
        if (shutdown.aborted) throw shuttingDown();
        const chunk = await output.next();
        if (chunk === undefined) {
          complete = true;
          break;
        }
        held.push(chunk);
        heldBytes += chunk.length;
      }
    } catch (error) {
      const failure = toClickHouseException(error);
      logger?.debug({ queryId: output.queryId, statement: keyword, code: failure.code, type: failure.type }, 'query failed');
      await output.close();
      sendError(res, failure, { queryId: output.queryId, timezone: output.timezone });
      return;
    }

    // The connection (and a session's lock) goes back before the client can see the end, as a server's
    // handler does: a client sending its next request on the session at once must find it free.
    // A whole result is ended by its headers (Content-Length), so that is before they go out.
    if (complete) await output.close();
    writer.start({
      queryId: output.queryId,
      format: output.format,
      timezone: output.timezone,
      summary: summaryOf(output.stats),
      ...(query.response.codec === undefined ? {} : { codec: query.response.codec }),
      nativeCompression: query.response.nativeCompression,
      compressionLevel: query.response.compressionLevel,
      ...(complete && query.response.codec === undefined && !query.response.nativeCompression ? { contentLength: heldBytes } : {}),
    });
    for (const chunk of held) await writer.write(chunk);
    if (!complete) {
      try {
        for (;;) {
          if (writer.clientGone) break;
          if (shutdown.aborted) throw shuttingDown();
          const chunk = await output.next();
          if (chunk === undefined) break;
          await writer.write(chunk);
        }
      } catch (error) {
        const failure = toClickHouseException(error);
        logger?.debug({ queryId: output.queryId, statement: keyword, code: failure.code }, 'query failed after its output began');
        await writer.fail(failure);
      }
    }
    await output.close();
    await writer.end();
    logger?.debug({ queryId: output.queryId, statement: keyword, ms: Date.now() - started, ...summaryOf(output.stats) }, 'query');
  } finally {
    await output.close();
  }
}
