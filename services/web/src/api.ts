import type { ClickHouseClient } from '@crm/clickhouse';
import { AT_RISK_SORTS, atRisk, isSegmentType, ping, profile, riskState, segmentMembers, type AtRiskSort } from './queries.js';

/** What a handler answers: an HTTP status and a JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const notFound = (message: string): Answer => ({ status: 404, body: { error: 'not_found', message } });
const badRequest = (message: string): Answer => ({ status: 400, body: { error: 'bad_request', message } });

export const MAX_PAGE = 1000;

/** A page size from `?limit=`: a whole number from 1 to MAX_PAGE, or the fallback when absent. */
export function pageSize(given: unknown, fallback: number): number | undefined {
  if (given === undefined || given === '') return fallback;
  const n = Number(given);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE ? n : undefined;
}

/** As the event schemas bound it (schemas/*.avsc customer_id: 1 to 256 characters). */
const validCustomerId = (id: string) => id.length > 0 && [...id].length <= 256;

export async function customer(ch: ClickHouseClient, id: string): Promise<Answer> {
  if (!validCustomerId(id)) return badRequest('customer id: 1 to 256 characters');
  const [found] = await profile(ch, id);
  if (found === undefined) return notFound(`no customer ${JSON.stringify(id)}`);
  const [risk] = await riskState(ch, id);
  const { rfm_segment, lifecycle_stage, value_tier } = found;
  return ok({
    customer_id: id,
    profile: pick(found, ['first_seen_at', 'last_seen_at', 'first_purchase_at', 'last_purchase_at', 'purchases_total', 'revenue_total', 'avg_order_value', 'clicks_30d', 'sessions_30d', 'open_tickets', 'complaints_90d', 'open_complaints', 'csat', 'last_nps']),
    scores: pick(found, ['recency_days', 'frequency', 'monetary', 'r_score', 'f_score', 'm_score', 'p_alive', 'churn_probability', 'expected_purchases_90d', 'clv_12m', 'clv_alive_12m', 'as_of']),
    segments: { rfm: rfm_segment, lifecycle: lifecycle_stage, tier: value_tier },
    risk: risk === undefined ? { at_risk: false } : { at_risk: true, since: risk.since, drivers: risk.drivers, churn_probability: risk.churn_probability, clv_12m: risk.clv_12m, alerted: risk.alerted },
    updated_at: found.updated_at,
  });
}

function pick(row: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, row[n]]));
}

export async function segment(ch: ClickHouseClient, type: string, name: string, query: { cursor?: unknown; limit?: unknown }): Promise<Answer> {
  if (!isSegmentType(type)) return notFound(`no segment type ${JSON.stringify(type)} (rfm, lifecycle or tier)`);
  const limit = pageSize(query.limit, 100);
  if (limit === undefined) return badRequest(`limit: a whole number from 1 to ${MAX_PAGE}`);
  const after = typeof query.cursor === 'string' ? query.cursor : '';
  const customers = await segmentMembers(ch, type, name, after, limit);
  const last = customers.at(-1);
  return ok({ type, name, customers, next_cursor: customers.length === limit && last !== undefined ? last.customer_id : null });
}

export async function atRiskList(ch: ClickHouseClient, query: { sort?: unknown; order?: unknown; limit?: unknown; offset?: unknown }): Promise<Answer> {
  const sort = (query.sort ?? 'clv') as string;
  if (!Object.hasOwn(AT_RISK_SORTS, sort)) return badRequest(`sort: one of ${Object.keys(AT_RISK_SORTS).join(', ')}`);
  if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc') return badRequest('order: asc or desc');
  const limit = pageSize(query.limit, 100);
  if (limit === undefined) return badRequest(`limit: a whole number from 1 to ${MAX_PAGE}`);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  if (!Number.isInteger(offset) || offset < 0) return badRequest('offset: a whole number ≥ 0');
  const customers = await atRisk(ch, sort as AtRiskSort, query.order !== 'asc', limit, offset);
  return ok({ sort, order: query.order ?? 'desc', offset, customers });
}

export async function health(ch: ClickHouseClient): Promise<Answer> {
  try {
    await ping(ch);
    return ok({ status: 'ok', clickhouse: 'reachable' });
  } catch {
    return { status: 503, body: { status: 'unavailable', clickhouse: 'unreachable' } };
  }
}
