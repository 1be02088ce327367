import type { IncomingMessage } from 'node:http';
import { decodeBody } from './compression.js';
import { parseBool } from './http-request.js';
import { bodyTooLarge } from './limits.js';
import { receiveBody, type BodySpool, type ReceivedBody } from './insert-stream.js';

/**
 * Reads a request body as ClickHouse's HTTP handler does: `Content-Encoding`
 * undone, then native blocks (`decompress=1`), INSERT data streamed to a spool
 * file and anything else kept in memory.
 */
export async function readRequestBody(req: IncomingMessage, spool: BodySpool, maxBodyBytes: number): Promise<ReceivedBody> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const flag = (name: string) => parseBool(url.searchParams.get(name) ?? undefined) === true;
  try {
    // Stopping early (a limit, bad data) must leave the request readable to drain: ending a plain
    // async iteration of the request would destroy it and reset the connection before the error is sent.
    const decoded = decodeBody(req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, {
      contentEncoding: req.headers['content-encoding'],
      native: flag('decompress'),
      verifyChecksums: !flag('http_native_compression_disable_checksumming_on_decompress'),
      maxBytes: maxBodyBytes,
    });
    return await receiveBody(countBody(decoded, maxBodyBytes), { method: req.method ?? 'GET', url: req.url ?? '/', contentType: req.headers['content-type'] }, spool);
  } catch (error) {
    // the rest of the request must still be read, or it would be taken for the next request on the connection
    await drain(req);
    throw error;
  }
}

/** Where the decoded body's size is counted: the limit applies to what the engine would get, after every decompression. */
async function* countBody(chunks: AsyncIterable<Buffer>, maxBodyBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > maxBodyBytes) throw bodyTooLarge(maxBodyBytes);
    yield chunk;
  }
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
