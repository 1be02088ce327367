import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';

/** Reads the whole request body, undoing `Content-Encoding` (clickhouse-js gzips insert bodies with `compression.request`). */
export async function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  let source: Readable = req;
  if (encoding === 'gzip' || encoding === 'x-gzip') source = req.pipe(createGunzip());
  else if (encoding === 'deflate') source = req.pipe(createInflate());
  else if (encoding === 'br') source = req.pipe(createBrotliDecompress());
  else if (encoding !== '' && encoding !== 'identity' && encoding !== 'none') {
    await drain(req);
    throw ClickHouseException.of(
      ErrorCode.UNKNOWN_COMPRESSION_METHOD,
      `Content-Encoding '${encoding}' is not supported by the embedded ClickHouse host (it reads gzip, deflate and br)`,
    );
  }

  const chunks: Buffer[] = [];
  try {
    for await (const chunk of source) chunks.push(chunk as Buffer);
  } catch (error) {
    if (source !== req) {
      // the rest of the request must still be read, or it would be taken for the next request on the connection
      await drain(req);
      throw ClickHouseException.of(ErrorCode.ZLIB_INFLATE_FAILED, `cannot decompress the request body (${encoding}): ${(error as Error).message}`);
    }
    throw error;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.resume();
  });
}
