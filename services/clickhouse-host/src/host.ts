import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@crm/runtime';
import { ChdbEngine } from './chdb-engine.js';
import { ChdbExecutor, summaryOf, type QueryOutput } from './chdb-executor.js';
import { ClickHouseException, ErrorCode, toClickHouseException } from './clickhouse-errors.js';
import { prepareResponseCompression } from './compression.js';
import { parseHttpRequest, type QueryRequest } from './http-request.js';
import { ResultWriter, sendError, sendNotFound, sendOk } from './http-response.js';
import { BodySpool } from './insert-stream.js';
import { readRequestBody } from './request-body.js';

/** Like ClickHouse's shutdown_wait_unfinished: how long close() lets running queries finish before cancelling streamed ones. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ClickHouseHostOptions {
  /** The chDB data directory (created if missing). One process, and one host, per directory. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The most bytes a request body may decompress to (every layer: Content-Encoding, then native blocks). */
  maxBodyBytes?: number;
  logger?: Logger;
}

/** Without a configured limit a body may be as large as a server would take; the bound still stops a compression bomb at it. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 ** 3;

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
  const engine = ChdbEngine.open(options.dataDir);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let executor: ChdbExecutor;
  let spool: BodySpool;
  try {
    spool = await BodySpool.open(engine.dataDir);
    await prepareResponseCompression();
    executor = await ChdbExecutor.create(engine, logger);
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
    handle(executor, spool, maxBodyBytes, req, res, shutdown.signal, logger)
      .catch((error: unknown) => {
        logger?.error({ err: error }, 'ClickHouse host request failed');
        sendError(res, toClickHouseException(error));
      })
      .finally(() => {
        inFlight--;
        if (closing && inFlight === 0) idle?.();
      });
  });

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

async function handle(
  executor: ChdbExecutor,
  spool: BodySpool,
  maxBodyBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
  shutdown: AbortSignal,
  logger: Logger | undefined,
): Promise<void> {
  let request;
  let received;
  try {
    received = await readRequestBody(req, spool, maxBodyBytes);
    request = parseHttpRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, ...received });
  } catch (error) {
    await spool.remove(received?.spooled);
    sendError(res, toClickHouseException(error));
    return;
  }
  try {
    if (request.kind === 'ping') return sendOk(res);
    if (request.kind === 'not-found') return sendNotFound(res, request.path);
    await respond(executor, request.query, res, shutdown, logger);
  } finally {
    await spool.remove(received.spooled);
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
