/**
 * Which output formats can be sent as the engine streams them. chDB formats
 * every streamed block as a whole output of its own, so a format with a prefix
 * or suffix (JSON's meta and statistics, Parquet's and Arrow's file framing, the
 * header of a *WithNames format) would repeat it in the middle of the body. Rows
 * of the formats below concatenate; the *WithNames formats do once their header
 * is cut from every block after the first; any other format is produced whole.
 */

export type StreamPlan = { kind: 'concatenate' } | { kind: 'strip-header'; headerLength: (chunk: Buffer) => number };

const CONCATENATE = new Set(
  [
    'Native',
    'RowBinary',
    'TabSeparated',
    'TSV',
    'TabSeparatedRaw',
    'TSVRaw',
    'Raw',
    'CSV',
    'JSONEachRow',
    'JSONLines',
    'NDJSON',
    'JSONStringsEachRow',
    'JSONCompactEachRow',
    'JSONCompactStringsEachRow',
    'LineAsString',
    'RawBLOB',
    'TSKV',
    'MsgPack',
    'Null',
    'Vertical',
    // ClickHouse itself draws a table per block in the Pretty formats
    'Pretty',
    'PrettyCompact',
    'PrettyCompactMonoBlock',
    'PrettyNoEscapes',
    'PrettySpace',
  ].map((f) => f.toLowerCase()),
);

const TEXT_WITH_HEADER = /^(tabseparated|tsv|tabseparatedraw|tsvraw|csv|jsoncompacteachrow|jsoncompactstringseachrow)withnames(andtypes)?$/;
const ROW_BINARY_WITH_HEADER = /^rowbinarywithnames(andtypes)?$/;

export function streamPlan(format: string): StreamPlan | undefined {
  const f = format.toLowerCase();
  if (CONCATENATE.has(f)) return { kind: 'concatenate' };
  const text = TEXT_WITH_HEADER.exec(f);
  if (text) {
    const lines = text[2] ? 2 : 1;
    const quoted = f.startsWith('csv');
    return { kind: 'strip-header', headerLength: (chunk) => lineBytes(chunk, lines, quoted) };
  }
  const binary = ROW_BINARY_WITH_HEADER.exec(f);
  if (binary) return { kind: 'strip-header', headerLength: (chunk) => rowBinaryHeaderBytes(chunk, binary[1] ? 2 : 1) };
  return undefined;
}

/** Bytes up to and including the `lines`-th line break; CSV names may hold a quoted line break. */
function lineBytes(chunk: Buffer, lines: number, quoted: boolean): number {
  let inQuotes = false;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    if (quoted && b === 0x22) inQuotes = !inQuotes;
    else if (b === 0x0a && !inQuotes && --lines === 0) return i + 1;
  }
  return chunk.length;
}

/** RowBinaryWithNames(AndTypes): a LEB128 column count, then that many length-prefixed strings, once or twice. */
function rowBinaryHeaderBytes(chunk: Buffer, lists: number): number {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = chunk[at++];
      if (b === undefined) return 0;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
  };
  const columns = varint();
  for (let list = 0; list < lists; list++) {
    for (let c = 0; c < columns; c++) {
      const length = varint(); // read before adding: `at += varint()` would add to the old position
      at += length;
    }
  }
  return Math.min(at, chunk.length);
}
