import { linesOf, type EncodedRows } from '../src/rows.js';

/** Encoded rows back as objects keyed by column, for assertions. */
export function rowObjects(rows: EncodedRows): Record<string, unknown>[] {
  return linesOf(rows).map((line) => Object.fromEntries((JSON.parse(line) as unknown[]).map((v, i) => [rows.columns[i], v])));
}
