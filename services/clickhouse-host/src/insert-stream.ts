import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { analyzeStatement, isBlankText, quoteString, sqlTokens } from './sql-statement.js';

/**
 * An INSERT's data arrives as a stream and goes to the engine whole, whatever
 * its size or format. chDB's only way to hand it rows in memory appends them to
 * the SQL text, and the engine's parser reads a binary format there only in part
 * (a 100 000-row Native body stops after 2 570 rows), so the body is written to
 * a file in the data directory as it arrives, memory staying at one chunk, and
 * the engine reads it with `INSERT ... FROM INFILE`, as clickhouse-client does.
 */

export interface SpooledInsert {
  /** The statement to run: the request's INSERT with `FROM INFILE '<file>'`. */
  readonly sql: string;
  readonly file: string;
  readonly bytes: number;
  /** Only blanks arrived: nothing to insert, which is a success, as on a server. */
  readonly blank: boolean;
}

export interface ReceivedBody {
  /** The body in memory when it is not insert data (a query, a form); empty when spooled. */
  body: Buffer;
  spooled?: SpooledInsert;
}

/** Enough of a body to hold any INSERT's header, so the body-as-query case can be told apart early. */
const HEAD_BYTES = 256 * 1024;
const SELECTS = new Set(['SELECT', 'WITH']);

/** Files of bodies being inserted, under `<dataDir>/http-bodies`; leftovers of a crash are removed at start. */
export class BodySpool {
  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<BodySpool> {
    const dir = join(dataDir, 'http-bodies');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
    return new BodySpool(dir);
  }

  newFile(): string {
    return join(this.dir, randomUUID());
  }

  async remove(spooled: SpooledInsert | undefined): Promise<void> {
    if (spooled) await rm(spooled.file, { force: true });
  }
}

export interface BodyRequest {
  method: string;
  url: string;
  contentType: string | undefined;
}

/**
 * Text formats the engine reads whole from memory (checked up to 40 000 rows, 1.2 MB, each).
 * A small insert in one of them skips the spool file: creating, writing and removing a file
 * per insert cost more than the insert itself (a one-row JSONEachRow insert 16.6 ms of host CPU
 * spooled; the engine alone takes 2.7 ms).
 */
const IN_MEMORY_FORMATS = new Set(['JSONEachRow', 'JSONCompactEachRow', 'TabSeparated', 'TSV', 'CSV']);

/**
 * Reads a decoded request body: INSERT data (after a `query` parameter that is
 * an INSERT, or after an INSERT header at the start of the body) goes to a
 * spool file, unless it is small and in a text format the engine reads from
 * memory; anything else is read into memory.
 */
export async function receiveBody(chunks: AsyncIterable<Buffer>, request: BodyRequest, spool: BodySpool): Promise<ReceivedBody> {
  const iterator = chunks[Symbol.asyncIterator]();
  const isForm = (request.contentType ?? '').toLowerCase().startsWith('multipart/form-data');
  if (request.method.toUpperCase() !== 'POST' || isForm) return { body: await readRest(iterator, []) };

  const queryParam = new URL(request.url, 'http://localhost').searchParams.get('query');
  if (queryParam !== null) {
    const plan = insertPlan(Buffer.from(queryParam, 'utf8'));
    const first = await iterator.next();
    if (first.done) return { body: Buffer.alloc(0) };
    if (!plan) return { body: await readRest(iterator, [first.value]) };
    const head = IN_MEMORY_FORMATS.has(plan.format) ? await readHead(iterator, [first.value]) : { chunks: [first.value], ended: false };
    // buildStatement joins the query's own data and the body as ClickHouse does.
    if (head.ended) return { body: Buffer.concat(head.chunks) };
    // ClickHouse reads `query` + "\n" + body as one text: data already in the query comes first.
    const prefix = plan.inlineData.length > 0 ? Buffer.concat([plan.inlineData, Buffer.from('\n')]) : Buffer.alloc(0);
    return { body: Buffer.alloc(0), spooled: await spoolInsert(plan, [prefix, ...head.chunks], iterator, spool) };
  }

  // The body is the query; an INSERT's data follows its header in it.
  const head = await readHead(iterator, []);
  const text = Buffer.concat(head.chunks);
  const ended = head.ended;
  const plan = insertPlan(text);
  // an INSERT header cut at the end of the head (`FORMAT Nat|ive`) is no plan yet
  if (!plan || (!ended && plan.dataStart >= text.length)) return { body: await readRest(iterator, [text]) };
  if (ended && IN_MEMORY_FORMATS.has(plan.format)) return { body: text };
  return { body: Buffer.alloc(0), spooled: await spoolInsert(plan, [text.subarray(plan.dataStart)], iterator, spool) };
}

interface InsertPlan {
  /** The statement with `FROM INFILE ?` in place, the file's path being spliced in at `fileAt`. */
  before: string;
  after: string;
  /** Data that follows the header inside `text` itself. */
  inlineData: Buffer;
  dataStart: number;
  format: string;
}

/** Where an INSERT's data would go, or undefined if `text` is not one whose data can come from a file. */
export function insertPlan(text: Buffer): InsertPlan | undefined {
  const shape = analyzeStatement(text);
  const data = shape.insertData;
  if (shape.keyword !== 'INSERT' || !data || shape.secondStatementAt !== undefined) return undefined;
  const intoEnd = data.settingsAt ?? data.formatAt;
  const target = text.toString('utf8', 0, intoEnd);
  // Values rows are expressions (they may call functions): they stay in memory, where the sandbox reads them.
  if (/^`?"?values"?`?$/i.test(data.format)) return undefined;
  // INSERT ... SELECT ... FROM input() FORMAT X reads its data through the SELECT, which FROM INFILE cannot follow.
  const header = text.subarray(0, intoEnd);
  if ([...sqlTokens(header)].some((t) => t.kind === 'word' && SELECTS.has(header.toString('latin1', t.start, t.end).toUpperCase()))) return undefined;
  const settings = text.toString('utf8', intoEnd, data.formatAt);
  return {
    before: `${target.trimEnd()} FROM INFILE `,
    after: ` COMPRESSION 'none' ${settings.trim()}${settings.trim() === '' ? '' : ' '}FORMAT ${data.format}`,
    inlineData: text.subarray(data.dataStart),
    dataStart: data.dataStart,
    format: data.format,
  };
}

async function spoolInsert(plan: InsertPlan, first: Buffer[], rest: AsyncIterator<Buffer>, spool: BodySpool): Promise<SpooledInsert> {
  const file = spool.newFile();
  const out = createWriteStream(file, { mode: 0o600 });
  let bytes = 0;
  let blank = true;
  const write = async (chunk: Buffer) => {
    if (chunk.length === 0) return;
    bytes += chunk.length;
    if (blank && !isBlankText(chunk)) blank = false;
    // once() also rejects on the stream's 'error', and leaves no listener behind
    if (!out.write(chunk)) await once(out, 'drain');
  };
  try {
    for (const chunk of first) await write(chunk);
    for (let next = await rest.next(); !next.done; next = await rest.next()) await write(next.value);
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
  } catch (error) {
    // A write may still be in flight (a body refused mid-stream, e.g. at its size limit): when it
    // completes it reports ERR_STREAM_DESTROYED as an 'error', which without a listener is an
    // uncaught exception that stops the host. Swallow it and remove the file once it is closed.
    out.on('error', () => undefined);
    out.destroy();
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await rm(file, { force: true });
    throw error;
  }
  return { sql: `${plan.before}${quoteString(file)}${plan.after}`, file, bytes, blank };
}

/** The body's first HEAD_BYTES or more (whole chunks); `ended`: that was all of it. */
async function readHead(iterator: AsyncIterator<Buffer>, first: Buffer[]): Promise<{ chunks: Buffer[]; ended: boolean }> {
  const chunks = [...first];
  let bytes = chunks.reduce((n, c) => n + c.length, 0);
  while (bytes < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) return { chunks, ended: true };
    chunks.push(next.value);
    bytes += next.value.length;
  }
  return { chunks, ended: false };
}

async function readRest(iterator: AsyncIterator<Buffer>, head: Buffer[]): Promise<Buffer> {
  const chunks = [...head];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

