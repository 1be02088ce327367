import { CrmError } from '@crm/runtime';

/** Writes rows to one table and resolves once ClickHouse acknowledged them (with its own retries). */
export type InsertRows<R> = (table: string, rows: R) => Promise<void>;

interface Waiting<R> {
  rows: R;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit: the batches of every partition in flight share one insert per table.
 * A write joins the table's next insert and resolves when that insert is acknowledged,
 * so each partition still commits only after its own rows are stored. Nothing waits
 * on a timer: an insert starts as soon as the previous one of its table ends, taking
 * everything that arrived meanwhile, so under load inserts grow and their number falls,
 * and an idle stream's rows are written at once. When ClickHouse refuses a shared insert's data, each write
 * is retried alone, so one partition's bad row is isolated by that partition's own
 * splitting (process-batch) and never fails another's batch.
 */
export function groupCommit<R>(insert: InsertRows<R>, join: (parts: R[]) => R): InsertRows<R> {
  const pending = new Map<string, Waiting<R>[]>();
  const busy = new Set<string>();

  const flush = (table: string): void => {
    const group = pending.get(table);
    if (busy.has(table) || group === undefined || group.length === 0) return;
    pending.delete(table);
    busy.add(table);
    void run(table, group).finally(() => {
      busy.delete(table);
      flush(table);
    });
  };

  const run = async (table: string, group: Waiting<R>[]): Promise<void> => {
    try {
      await insert(table, group.length === 1 ? group[0]!.rows : join(group.map((w) => w.rows)));
      for (const w of group) w.resolve();
    } catch (error) {
      if (group.length === 1 || !(error instanceof CrmError) || error.code !== 'CLICKHOUSE_DATA_REJECTED') {
        for (const w of group) w.reject(error);
        return;
      }
      for (const w of group) {
        try {
          await insert(table, w.rows);
          w.resolve();
        } catch (alone) {
          w.reject(alone);
        }
      }
    }
  };

  return (table, rows) =>
    new Promise<void>((resolve, reject) => {
      const group = pending.get(table) ?? [];
      group.push({ rows, resolve, reject });
      pending.set(table, group);
      // Partitions of one fetch are decoded one after another in the same turn of the event
      // loop; waiting for the turn to end lets them share the first insert too.
      if (group.length === 1) setImmediate(() => flush(table));
    });
}
