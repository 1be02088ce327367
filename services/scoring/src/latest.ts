import type { ClickHouseClient } from '@crm/clickhouse';

/** The newest instant in a DateTime64 column, in epoch milliseconds (0 for an empty table). Names are ours, never event data. */
export async function latestMs(clickhouse: ClickHouseClient, table: 'scoring_runs' | 'outbox_commits', column: 'as_of' | 'changed_at'): Promise<number> {
  const result = await clickhouse.query({ query: `SELECT toUnixTimestamp64Milli(max(${column})) AS ms FROM ${table}`, format: 'JSONEachRow' });
  const [row] = await result.json<{ ms: string | number }>();
  return Number(row?.ms ?? 0);
}
