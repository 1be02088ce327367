import { describe, expect, it } from 'vitest';
import { CrmError } from '@crm/runtime';
import { groupCommit } from '../src/group-commit.js';
import { compactRows, instantText, type Row } from '../src/rows.js';

const rejected = () => new CrmError('CLICKHOUSE_DATA_REJECTED', 'Cannot parse input');

describe('groupCommit', () => {
  it('writes the rows of writes made in the same turn in one insert per table, and resolves each after it', async () => {
    const inserts: { table: string; rows: Row[] }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = groupCommit(async (table, rows) => {
      inserts.push({ table, rows });
      await gate;
    });
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
    const write = groupCommit(async (_table, rows) => {
      inserts.push(rows.map((r) => r.n as number));
      await new Promise<void>((r) => gates.push(r));
    });
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
    const write = groupCommit(async (_table, rows) => {
      inserts.push(rows.map((r) => r.n as number));
      if (rows.some((r) => r.bad)) throw rejected();
    });
    const good = write('clicks', [{ n: 1 }]);
    const bad = write('clicks', [{ n: 2, bad: true }]);
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toMatchObject({ code: 'CLICKHOUSE_DATA_REJECTED' });
    expect(inserts).toEqual([[1, 2], [1], [2]]);
  });

  it('fails every write of an insert that failed for any other reason, without retrying it', async () => {
    let calls = 0;
    const write = groupCommit(async () => {
      calls++;
      throw new CrmError('CLICKHOUSE_UNAVAILABLE', 'down', { retriable: true });
    });
    const results = await Promise.allSettled([write('clicks', [{ n: 1 }]), write('clicks', [{ n: 2 }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
  });
});

describe('compactRows', () => {
  it('names the columns once and lists every row in their order, missing values as null', () => {
    expect(compactRows([{ a: 1, b: 'x' }, { a: 2, b: undefined }])).toEqual({ columns: ['a', 'b'], values: [[1, 'x'], [2, null]] });
  });
});

describe('instantText', () => {
  it('keeps the canonical form and normalises any other to it', () => {
    expect(instantText('2026-04-30T12:00:00.123Z')).toBe('2026-04-30T12:00:00.123Z');
    expect(instantText('2026-04-30T12:00:00Z')).toBe('2026-04-30T12:00:00.000Z');
    expect(instantText('2026-04-30T14:00:00.5+02:00')).toBe('2026-04-30T12:00:00.500Z');
  });
});
