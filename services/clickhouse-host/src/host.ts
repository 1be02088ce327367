import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Logger } from '@crm/runtime';
import { BadRequestError, ChdbExecutor, type ExecutionResult } from './chdb-executor.js';
import { engineError, type EngineError } from './clickhouse-errors.js';
import { parseClickHouseRequest, UnsupportedEncodingError } from './http-request.js';

export interface ClickHouseHostOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  logger?: Logger;
}

export interface ClickHouseHost {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves ClickHouse's HTTP interface over the embedded engine, so every other
 * process talks to it with @clickhouse/client exactly as to a real server.
 */
export async function startClickHouseHost(options: ClickHouseHostOptions): Promise<ClickHouseHost> {
  const executor = new ChdbExecutor(options.dataDir);
  const server = createServer((req, res) => {
    handle(executor, req, res, options.logger).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      executor.close();
    },
  };
}

async function handle(executor: ChdbExecutor, req: IncomingMessage, res: ServerResponse, logger?: Logger): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const body = await readBody(req);
  if ((url.pathname === '/ping' || url.pathname === '/') && req.method === 'GET' && !url.searchParams.has('query')) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
    return;
  }
  if (url.pathname !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`There is no handle ${url.pathname}\n`);
    return;
  }

  let request;
  try {
    request = parseClickHouseRequest(url, req.headers, body);
  } catch (error) {
    const message = error instanceof UnsupportedEncodingError ? `Unknown Content-Encoding ${error.message}` : String(error);
    sendError(res, randomUUID(), { code: 36, name: 'BAD_ARGUMENTS', text: `Code: 36. DB::Exception: ${message}. (BAD_ARGUMENTS)`, httpStatus: 400 });
    return;
  }
  const queryId = request.queryId ?? randomUUID();
  if (request.sql.trim() === '') {
    sendError(res, queryId, { code: 62, name: 'SYNTAX_ERROR', text: 'Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)', httpStatus: 400 });
    return;
  }

  let result: ExecutionResult;
  if (request.dataIsEmpty) {
    // An INSERT without rows is a no-op, as clickhouse-js expects; the engine would refuse it.
    result = { bytes: new Uint8Array(0), rowsRead: 0, bytesRead: 0, elapsedSeconds: 0 };
  } else {
    try {
      result = await executor.execute(request);
    } catch (error) {
      const failure =
        error instanceof BadRequestError
          ? { code: 36, name: 'BAD_ARGUMENTS', text: `Code: 36. DB::Exception: ${error.message}. (BAD_ARGUMENTS)`, httpStatus: 400 }
          : engineError(error);
      logger?.debug({ queryId, code: failure.code, name: failure.name }, 'query failed');
      sendError(res, queryId, failure);
      return;
    }
  }

  const written = request.hasData ? result.rowsRead : 0;
  const summary = {
    read_rows: String(request.hasData ? 0 : result.rowsRead),
    read_bytes: String(request.hasData ? 0 : result.bytesRead),
    written_rows: String(written),
    written_bytes: String(request.hasData ? body.length : 0),
    total_rows_to_read: String(request.hasData ? 0 : result.rowsRead),
    result_rows: String(request.hasData ? written : result.rowsRead),
    result_bytes: String(result.bytes.byteLength),
    elapsed_ns: String(Math.round(result.elapsedSeconds * 1e9)),
  };
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=UTF-8',
    'x-clickhouse-query-id': queryId,
    'x-clickhouse-format': request.format,
    'x-clickhouse-timezone': 'UTC',
    'x-clickhouse-server-display-name': 'chdb-host',
    'x-clickhouse-summary': JSON.stringify(summary),
  };
  let payload: Uint8Array = result.bytes;
  if (request.compressResponse) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  res.writeHead(200, headers).end(payload);
}

function sendError(res: ServerResponse, queryId: string, failure: EngineError): void {
  res
    .writeHead(failure.httpStatus, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-clickhouse-query-id': queryId,
      'x-clickhouse-exception-code': String(failure.code),
    })
    .end(`${failure.text}\n`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
