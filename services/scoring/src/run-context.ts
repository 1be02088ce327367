import { randomBytes } from 'node:crypto';
import { BOUNDED_AGGREGATION, type ClickHouseClient, type ClickHouseSettings } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';

/**
 * A run's scratch tables are named `scoring_<name>_<12 hex>`; `scoring_runs`
 * and other real tables never end in a 12-hex-digit suffix.
 */
const RUN_TABLE = '^scoring_[a-z_]+_[0-9a-f]{12}$';

/** The run's instant T in a statement, bound server-side as the parameter `as_of` (dateParam). */
export const AS_OF = "{as_of:DateTime64(3, 'UTC')}";

/**
 * The settings of an INSERT … SELECT into a scoring table. optimize_on_insert = 0: the rows
 * of one write have distinct sort keys (one per customer, or per customer and segment type),
 * so the replacing merge each block would get on insert finds nothing to collapse — and cost
 * more than half of a full run's writes. max_insert_threads = 2: the sort and write of the
 * blocks on two threads, not one (a full run's writes are millions of rows).
 */
export const WRITE_SETTINGS = 'optimize_on_insert = 0, max_insert_threads = 2';

export const dateParam = (date: Date) => (date.getTime() / 1000).toFixed(3);

/** ClickHouse's text form of a DateTime64 in UTC ('2026-06-30 00:00:00.000') as a Date. */
export const dateFromText = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);

/**
 * One run's statements: its scratch tables (all dropped at the end, so
 * concurrent runs never share state), the read filters of an incremental
 * update (scope.ts), and timing of its phases. Stage modules take it.
 */
export function runContext(clickhouse: ClickHouseClient, logger?: Logger) {
  const run = randomBytes(6).toString('hex');
  const tables: string[] = [];
  let phaseStarted = Date.now();
  let readFilters: string | undefined;
  let scoped = false;
  const settings = () => ({ wait_end_of_query: 1 as const, ...BOUNDED_AGGREGATION, ...(readFilters && { additional_table_filters: readFilters }) }) as ClickHouseSettings;
  const command = async (query: string, query_params: Record<string, unknown> = {}) => {
    const started = Date.now();
    const result = await clickhouse.command({ query, query_params, clickhouse_settings: settings() });
    logger?.trace({ statement: query.trim().slice(0, 48).replace(/\s+/g, ' ').replace(/_[0-9a-f]{12}\b/, ''), ms: Date.now() - started }, 'statement done');
    return result;
  };
  return {
    clickhouse,
    command,
    /** From now on, every table is read through these filters (see scope.ts): an incremental update's few customers. */
    filterReads(filters: string): void {
      readFilters = filters;
      scoped = true;
    },
    /**
     * The engine of a scratch table: a few customers' intermediates live in memory (no parts
     * to write, cheaper statements); a full run's in parts, unsorted — they are read whole
     * and joined by hash, and sorting a million rows by customer_id cost up to a second per table.
     */
    engine(): string {
      return scoped ? 'Memory' : 'MergeTree ORDER BY tuple()';
    },
    table(name: string): string {
      tables.push(`scoring_${name}_${run}`);
      return tables.at(-1)!;
    },
    async select<T>(query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
      return (await clickhouse.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: settings() })).json<T>();
    },
    /** Logs how long `work`, which runs alongside the phases, took (its time is inside theirs). */
    async alongside<T>(name: string, work: Promise<T>): Promise<T> {
      const started = Date.now();
      const result = await work;
      logger?.debug({ phase: `${name} (alongside)`, ms: Date.now() - started }, 'scoring phase done');
      return result;
    },
    phase(name: string): void {
      logger?.debug({ phase: name, ms: Date.now() - phaseStarted }, 'scoring phase done');
      phaseStarted = Date.now();
    },
    async dropAll(): Promise<void> {
      // One statement for all of them: a statement's fixed cost is most of a small table's drop.
      if (tables.length > 0) await command(`DROP TABLE IF EXISTS ${tables.join(', ')}`).catch(() => undefined);
    },
  };
}
export type RunContext = ReturnType<typeof runContext>;

/**
 * Drops the scratch tables of runs that died mid-way (a killed process
 * never reaches its `finally`). Only tables older than `olderThanMinutes`:
 * another process (a second instance, `crm score`) may be running now.
 */
export async function dropStaleRunTables(clickhouse: ClickHouseClient, olderThanMinutes: number, logger: Logger): Promise<string[]> {
  const result = await clickhouse.query({
    query: `SELECT name FROM system.tables
            WHERE database = currentDatabase() AND match(name, {pattern:String})
              AND metadata_modification_time <= now() - toIntervalMinute({minutes:UInt32})`,
    query_params: { pattern: RUN_TABLE, minutes: olderThanMinutes },
    format: 'JSONEachRow',
  });
  const names = (await result.json<{ name: string }>()).map((r) => r.name);
  // The names matched RUN_TABLE (letters, digits, underscores): safe as identifiers.
  for (const name of names) await clickhouse.command({ query: `DROP TABLE IF EXISTS ${name}` });
  if (names.length > 0) logger.info({ tables: names.length }, 'dropped intermediate tables of interrupted scoring runs');
  return names;
}
