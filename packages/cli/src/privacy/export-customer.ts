import { customerRows, stitchedAnonymousIds, type ClickHouseClient } from '@crm/clickhouse';

export interface CustomerExport {
  customer_id: string;
  exported_at: string;
  /** Anonymous ids stitched to the customer: their anonymous clicks are part of `tables.clicks`. */
  anonymous_ids: string[];
  /** Every row held about the customer, by table (docs/PRIVACY.md lists the tables). */
  tables: Record<string, Record<string, unknown>[]>;
}

/** The data-subject access request: everything ClickHouse holds about one customer, as one document. */
export async function exportCustomer(clickhouse: ClickHouseClient, customerId: string, now = new Date()): Promise<CustomerExport> {
  const anonymousIds = await stitchedAnonymousIds(clickhouse, customerId);
  return { customer_id: customerId, exported_at: now.toISOString(), anonymous_ids: anonymousIds, tables: await customerRows(clickhouse, customerId, anonymousIds) };
}
