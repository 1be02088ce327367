import { suppressedIds, type ClickHouseClient, type SuppressionList } from '@crm/clickhouse';

/** The suppression list for a command that runs once (`crm dlq replay`); the client is closed after. */
export async function readSuppressionList(clickhouse: ClickHouseClient): Promise<SuppressionList> {
  try {
    return await suppressedIds(clickhouse);
  } finally {
    await clickhouse.close();
  }
}
