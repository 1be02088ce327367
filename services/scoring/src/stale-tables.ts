import type { ClickHouseClient } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';

/**
 * A run's intermediate tables (see runContext in run.ts): `scoring_<name>_<12 hex>`.
 * `scoring_runs` and other real tables never end in a 12-hex-digit suffix.
 */
const RUN_TABLE = '^scoring_[a-z_]+_[0-9a-f]{12}$';

/**
 * Drops the intermediate tables of runs that died mid-way (a killed process
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
