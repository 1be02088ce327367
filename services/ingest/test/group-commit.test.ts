import { describe, expect, it } from 'vitest';
import { CrmError } from '@crm/runtime';
import { groupCommit } from '../src/group-commit.js';
import { encodeRows, instantText, joinRows, linesOf, type Row } from '../src/rows.js';

const flat = (parts: Row[][]) => parts.flat();

const rejected = () => new CrmError('CLICKHOUSE_DATA_REJECTED', 'Cannot parse input');

describe('groupCommit', () => {
  it('writes the rows of writes made in the same turn in one insert per table, and resolves each after it', async () => {
    const inserts: { table: string; rows: Row[] }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = groupCommit<Row[]>(async (table, rows) => {
      inserts.push({ table, rows });
      await gate;
    }, flat);
    const settled: string[] = [];
    const a = write('clicks', [{ n: 1 }]).then(() => settled.push('a'));
    const b = write('clicks', [{ n: 2 }, { n: 3 }]).then(() => settled.push('b'));
    const c = write('identity_links', [{ n: 4 }]).then(() => settled.push('c'));
    await new Promise((r) => setImmediate(r));
    expect(inserts).toEqual([
      { table: 'clicks', rows: [{ n: 1 }, { n: 2 }, { n: 3 }] },
      { table: 'identity_links', rows: [{ n: 4 }] },
    ]);
    expect(settled).toEqual([]);
    release();
    await Promise.all([a, b, c]);
    expect(settled.sort()).toEqual(['a', 'b', 'c']);
  });

  it('gathers the writes that arrive while an insert runs into the next one, started when it ends', async () => {
    const inserts: number[][] = [];
    const gates: (() => void)[] = [];
    const write = groupCommit<Row[]>(async (_table, rows) => {
      inserts.push(rows.map((r) => r.n as number));
      await new Promise<void>((r) => gates.push(r));
    }, flat);
    const first = write('clicks', [{ n: 1 }]);
    await new Promise((r) => setImmediate(r));
    const second = write('clicks', [{ n: 2 }]);
    const third = write('clicks', [{ n: 3 }]);
    await new Promise((r) => setImmediate(r));
    expect(inserts).toEqual([[1]]);
    gates.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(inserts).toEqual([[1], [2, 3]]);
    gates.shift()!();
    await Promise.all([second, third]);
  });

  it('retries each write alone when ClickHouse refuses a shared insert, so only the bad one fails', async () => {
    const inserts: number[][] = [];
    const write = groupCommit<Row[]>(async (_table, rows) => {
      inserts.push(rows.map((r) => r.n as number));
      if (rows.some((r) => r.bad)) throw rejected();
    }, flat);
    const good = write('clicks', [{ n: 1 }]);
    const bad = write('clicks', [{ n: 2, bad: true }]);
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toMatchObject({ code: 'CLICKHOUSE_DATA_REJECTED' });
    expect(inserts).toEqual([[1, 2], [1], [2]]);
  });

  it('fails every write of an insert that failed for any other reason, without retrying it', async () => {
    let calls = 0;
    const write = groupCommit<Row[]>(async () => {
      calls++;
      throw new CrmError('CLICKHOUSE_UNAVAILABLE', 'down', { retriable: true });
    }, flat);
    const results = await Promise.allSettled([write('clicks', [{ n: 1 }]), write('clicks', [{ n: 2 }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
  });
});

describe('encodeRows', () => {
  it('names the columns once and writes every row as one JSON line in their order, missing values as null', () => {
    expect(encodeRows([{ a: 1, b: 'x' }, { a: 2, b: undefined }])).toEqual({ columns: ['a', 'b'], text: '[1,"x"]\n[2,null]', count: 2 });
  });

  it('keeps one line per row whatever a value holds, so the lines split back exactly', () => {
    const rows = encodeRows([{ a: 'line\nbreak\r\u2028' }, { a: '\ud800 lone surrogate' }, { a: '' }]);
    expect(linesOf(rows).map((l) => JSON.parse(l))).toEqual([['line\nbreak\r\u2028'], ['\ud800 lone surrogate'], ['']]);
  });

  it('joins the rows of several writes of one table, and refuses to join rows of different columns', () => {
    expect(joinRows([encodeRows([{ a: 1 }]), { columns: ['a'], text: '', count: 0 }, encodeRows([{ a: 2 }, { a: 3 }])])).toEqual({ columns: ['a'], text: '[1]\n[2]\n[3]', count: 3 });
    expect(() => joinRows([encodeRows([{ a: 1 }]), encodeRows([{ b: 1 }])])).toThrow('different columns');
  });
});

describe('instantText', () => {
  it('keeps the canonical form and normalises any other to it', () => {
    expect(instantText('2026-04-30T12:00:00.123Z')).toBe('2026-04-30T12:00:00.123Z');
    expect(instantText('2026-04-30T12:00:00Z')).toBe('2026-04-30T12:00:00.000Z');
    expect(instantText('2026-04-30T14:00:00.5+02:00')).toBe('2026-04-30T12:00:00.500Z');
  });
});
