/**
 * The dashboard at scale: C customers' profiles, three full runs of score history, orders,
 * surveys and at-risk decisions generated straight into the embedded ClickHouse for this
 * benchmark only; then each page and API answer is fetched over HTTP a few times and the
 * median time is printed. Every aggregate runs in ClickHouse, so Node's time should stay flat.
 *
 *   pnpm bench:web [--customers 1000000]
 */
import { parseArgs } from 'node:util';
import { refreshDashboardAggregates } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadWebConfig, startWeb } from '@crm/web';
import * as q from '../services/web/src/queries.js';
import { migratedDatabase, startTestClickHouse } from '../test/support/clickhouse.js';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '3' } } });
const customers = Number(values.customers);
const say = (line: string) => process.stderr.write(`${line}\n`);

const host = await startTestClickHouse();
const { clickhouse, config } = await migratedDatabase(host, 'crm');
const run = (query: string) => clickhouse.command({ query, query_params: { n: customers }, clickhouse_settings: { max_execution_time: 3600 } });
try {
  const started = Date.now();
  const segment = `['champions','loyal_customers','potential_loyalists','at_risk','hibernating'][1 + number % 5]`;
  await run(`INSERT INTO customer_profiles (customer_id, first_seen_at, last_seen_at, first_purchase_at, last_purchase_at, purchases_total, revenue_total,
      frequency, monetary, r_score, f_score, m_score, rfm_segment, lifecycle_stage, value_tier, p_alive, churn_probability, clv_12m, as_of, updated_at)
    SELECT concat('c', leftPad(toString(number), 8, '0')), now64(3) - toIntervalDay(400), now64(3) - toIntervalDay(number % 365), now64(3) - toIntervalDay(400),
      now64(3) - toIntervalDay(number % 365), 1 + number % 7, toDecimal128(10 + number % 997, 4), 1 + number % 7, toDecimal128(10 + number % 997, 4),
      1 + number % 5, 1 + intDiv(number, 5) % 5, 1 + intDiv(number, 25) % 5, ${segment}, ['new','active','at_risk','churned'][1 + number % 4],
      ['lead','lead','iron','gold','platinum'][1 + intDiv(number, 7) % 5], (number % 100) / 100, 1 - (number % 100) / 100, (number % 997) * 1.5, now64(3), now64(3)
    FROM numbers({n:UInt64})`);
  for (const back of [60, 30, 0]) {
    await run(`INSERT INTO customer_scores_history (as_of, customer_id, frequency, monetary, rfm_segment, lifecycle_stage, value_tier, p_alive, clv_12m, purchases_total, revenue_total, updated_at)
      SELECT now64(3) - toIntervalDay(${back}), concat('c', leftPad(toString(number), 8, '0')), 1, toDecimal128(10, 4), ${segment},
        ['new','active','at_risk','churned'][1 + (number + ${back}) % 4], 'lead', 0.5, (number % 997) * 1.5, 1, toDecimal128(10, 4), now64(3)
      FROM numbers({n:UInt64})`);
  }
  await run(`INSERT INTO orders (event_id, occurred_at, schema_version, order_id, customer_id, status, placed_at, total, refunded_amount, currency, fx_rate, channel, payment_method, items, source_partition, source_offset)
    SELECT generateUUIDv4(), t, 1, toString(number), concat('c', leftPad(toString(number % {n:UInt64}), 8, '0')), 'delivered', t, toDecimal64(20, 4), toDecimal64(0, 4), 'USD', toDecimal64(1, 8), 'web', 'card', [], 0, number
    FROM (SELECT number, now64(3) - toIntervalDay(number % 700) AS t FROM numbers({n:UInt64} * 3))`);
  await run(`INSERT INTO surveys (event_id, occurred_at, schema_version, response_id, customer_id, kind, score, scale_max, expectation, source_partition, source_offset)
    SELECT generateUUIDv4(), now64(3) - toIntervalDay(number % 700), 1, toString(number), concat('c', leftPad(toString(number), 8, '0')), ['csat','nps'][1 + number % 2], number % 6, 5, 4, 0, number
    FROM numbers(intDiv({n:UInt64}, 10))`);
  await run(`INSERT INTO segment_changes (event_id, customer_id, segment_type, \`from\`, \`to\`, as_of, changed_at, rfm_segment, lifecycle_stage, value_tier, churn_probability, clv_12m, drivers, publish)
    SELECT generateUUIDv4(), concat('c', leftPad(toString(number * 20), 8, '0')), 'risk', NULL, 'at_risk', now64(3), now64(3), 'at_risk', 'active', 'gold', 0.6, (number % 997) * 1.5, ['recency'], true
    FROM numbers(intDiv({n:UInt64}, 20))`);
  say(`generated ${customers} customers (3 history runs, ${customers * 3} orders, ${customers / 10} surveys, ${customers / 20} at risk) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // What each full run does after writing the profiles (scoring's run.ts), timed as its cost.
  const refreshed = Date.now();
  await refreshDashboardAggregates(clickhouse);
  say(`dashboard aggregates refreshed in ${((Date.now() - refreshed) / 1000).toFixed(1)} s (part of each full scoring run)`);

  // Each page's ClickHouse queries on their own, one after another: the page's budget is 500 ms in all.
  const id = 'c00000020';
  const pageQueries: Record<string, Record<string, () => Promise<unknown>>> = {
    '/': {
      totals: () => q.totals(clickhouse), topFifthShare: () => q.topFifthShare(clickhouse), equityTrend: () => q.equityTrend(clickhouse),
      pyramid: () => q.pyramid(clickhouse), lifecycleMix: () => q.lifecycleMix(clickhouse), rfmGrid: () => q.rfmGrid(clickhouse),
      churnMonthly: () => q.churnMonthly(clickhouse), cohorts: () => q.cohorts(clickhouse), satisfaction: () => q.satisfaction(clickhouse),
    },
    '/at-risk': { atRisk: () => q.atRisk(clickhouse, 'clv', true, 51, 0), churnedByValue: () => q.churnedByValue(clickhouse, 50), churnedByTier: () => q.churnedByTier(clickhouse) },
    '/customer': {
      profile: () => q.profile(clickhouse, id), riskState: () => q.riskState(clickhouse, id), scoreHistory: () => q.scoreHistory(clickhouse, id),
      recentOrders: () => q.recentOrders(clickhouse, id), recentTickets: () => q.recentTickets(clickhouse, id), recentSurveys: () => q.recentSurveys(clickhouse, id),
      publishedEvents: () => q.publishedEvents(clickhouse, id),
    },
    '/pipeline': { lastFullRun: () => q.lastFullRun(clickhouse), recentFits: () => q.recentFits(clickhouse), freshness: () => q.freshness(clickhouse) },
  };
  const queryLines = [];
  for (const [path, queries] of Object.entries(pageQueries)) {
    const each: string[] = [];
    let total = 0;
    for (const [name, query] of Object.entries(queries)) {
      await query(); // warm (first-read caches), as a page served before would
      const t = performance.now();
      await query();
      const ms = performance.now() - t;
      total += ms;
      each.push(`${name} ${ms.toFixed(0)}`);
    }
    queryLines.push(`${path.padEnd(10)} queries ${total.toFixed(0).padStart(5)} ms in all (${each.join(', ')})`);
  }

  const web = await startWeb(loadWebConfig({ ...config, CRM_WEB_PORT: '0' }), createLogger('web', 'warn'));
  const paths = ['/', '/at-risk', '/at-risk?sort=churn&page=3', '/customer?id=c00000020', '/pipeline', '/api/customers/c00000020', '/api/segments/rfm/champions/customers?cursor=c00500000', '/api/at-risk?sort=last_purchase'];
  const lines = [];
  for (const path of paths) {
    const times: number[] = [];
    for (let i = 0; i < Number(values.repeat); i++) {
      const t = performance.now();
      const response = await fetch(new URL(path, web.url));
      const body = await response.text();
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    lines.push(`${path.padEnd(58)} median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2)} s  (min ${(times[0]! / 1000).toFixed(2)} s)`);
  }
  await web.stop();
  process.stdout.write(`${queryLines.join('\n')}\n${lines.join('\n')}\n`);
} finally {
  await clickhouse.close();
  await host.stop();
}
