import type { DataFormat } from '@clickhouse/client';
import type { ClickHouseClient } from '@crm/clickhouse';

/**
 * Runs one query and writes ClickHouse's own rendering of the result: a
 * readable table by default, or any output format ClickHouse knows (TSV,
 * CSVWithNames, JSONEachRow, …), so what a data team sees is what the engine says.
 */
export async function runSql(
  clickhouse: ClickHouseClient,
  query: string,
  format: string,
  out: NodeJS.WritableStream,
  params: Record<string, unknown> = {},
): Promise<void> {
  const result = await clickhouse.exec({
    query,
    query_params: params,
    // Any ClickHouse output format is allowed here, not only those the client can parse.
    clickhouse_settings: { default_format: format as DataFormat, wait_end_of_query: 1 },
  });
  for await (const chunk of result.stream) out.write(chunk as Buffer);
}
