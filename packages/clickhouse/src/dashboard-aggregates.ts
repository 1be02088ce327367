import type { ClickHouseClient } from '@clickhouse/client';
import { BOUNDED_AGGREGATION } from './client.js';
import { CHURN_RETENTION_RUNS, COHORT_RETENTION_RUNS, columnList, columnNames, REVENUE_CONCENTRATION_RUNS, SATISFACTION_RUNS, type Table } from './tables.js';

/**
 * The dashboard's aggregates: each table holds snapshots of one analysts' view (the one home of
 * its definition, in the migrations), so a page reads a few hundred rows instead of a pass over
 * every purchase, score record, survey or profile. Full scoring runs refresh them: those `of`
 * the events (purchases, survey answers) while the run computes, those of the scores after it
 * has written them.
 */
export const DASHBOARD_AGGREGATES: readonly { table: Table; view: string; of: 'events' | 'scores' }[] = [
  { table: COHORT_RETENTION_RUNS, view: 'cohort_retention', of: 'events' },
  { table: CHURN_RETENTION_RUNS, view: 'churn_retention_monthly', of: 'scores' },
  { table: REVENUE_CONCENTRATION_RUNS, view: 'revenue_concentration', of: 'scores' },
  { table: SATISFACTION_RUNS, view: 'satisfaction_monthly', of: 'events' },
];

/** How long a superseded snapshot is kept: long enough for a page that began reading it to finish. */
const KEEP_SUPERSEDED = 'INTERVAL 1 HOUR';

/**
 * Writes a snapshot of every aggregate (or only those `of` the events or the scores) under one
 * computed_at (the server's now) and deletes the ones superseded more than an hour ago.
 * Returns computed_at as ClickHouse's text.
 */
export async function refreshDashboardAggregates(client: ClickHouseClient, of?: 'events' | 'scores'): Promise<string> {
  const now = await client.query({ query: 'SELECT toString(now64(3)) AS t', format: 'JSONEachRow' });
  const [{ t: computedAt }] = (await now.json<{ t: string }>()) as [{ t: string }];
  const param = "{computed_at:DateTime64(3, 'UTC')}";
  for (const { table, view } of DASHBOARD_AGGREGATES.filter((a) => of === undefined || a.of === of)) {
    const fromView = columnList(table, columnNames(table).filter((c) => c !== 'computed_at'));
    await client.command({
      query: `INSERT INTO ${table.name} (${columnList(table)}) SELECT ${param}, ${fromView} FROM ${view}`,
      query_params: { computed_at: computedAt },
      clickhouse_settings: { wait_end_of_query: 1, ...BOUNDED_AGGREGATION },
    });
    await client.command({
      query: `DELETE FROM ${table.name} WHERE computed_at < ${param} - ${KEEP_SUPERSEDED}`,
      query_params: { computed_at: computedAt },
      clickhouse_settings: { wait_end_of_query: 1 },
    });
  }
  return computedAt;
}

/** The rows of an aggregate's newest snapshot, as a FROM clause. */
export const newestSnapshot = (table: Table) =>
  `(SELECT * FROM ${table.name} WHERE computed_at = (SELECT max(computed_at) FROM ${table.name}))`;
