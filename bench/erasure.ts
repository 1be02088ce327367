/**
 * How long an erasure takes: C customers (each with O orders, K clicks from a stitched device,
 * a ticket, a survey, a profile, a history row and an outbox row) generated straight into the
 * embedded ClickHouse, then `eraseCustomer` (what `crm erase customer` runs, minus the Kafka
 * send and the settle wait) for a few of them, timed.
 *
 *   pnpm tsx bench/erasure.ts [--customers 100000] [--orders 10] [--clicks 20] [--erasures 5]
 */
import { parseArgs } from 'node:util';
import { customerRowCounts } from '@crm/clickhouse';
import { migratedDatabase, startTestClickHouse } from '../test/support/clickhouse.js';
import { eraseCustomer } from '@crm/ingest';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, orders: { type: 'string', default: '10' }, clicks: { type: 'string', default: '20' }, erasures: { type: 'string', default: '5' } } });
const customers = Number(values.customers);
const orders = Number(values.orders);
const clicks = Number(values.clicks);
const erasures = Number(values.erasures);

const host = await startTestClickHouse();
try {
  const { clickhouse } = await migratedDatabase(host, 'crm');
  const started = Date.now();
  const c = `concat('c-', toString(number % ${customers}))`;
  const t = `toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(number % 31536000)`;
  const statements = [
    `INSERT INTO orders (event_id, occurred_at, order_id, customer_id, status, placed_at, currency, fx_rate) SELECT generateUUIDv4(), ${t}, concat('o-', toString(number)), ${c}, 'paid', ${t}, 'USD', 1 FROM numbers(${customers * orders})`,
    `INSERT INTO clicks (event_id, occurred_at, anonymous_id, customer_id, session_id, type, url) SELECT generateUUIDv4(), ${t}, concat('a-', toString(number % ${customers})), if(number < ${customers}, ${c}, NULL), 's', 'page_view', concat('https://shop.example/p/', toString(number)) FROM numbers(${customers * clicks})`,
    `INSERT INTO identity_links SELECT concat('a-', toString(number)), concat('c-', toString(number)), ${t}, generateUUIDv4() FROM numbers(${customers})`,
    `INSERT INTO tickets (event_id, occurred_at, ticket_id, customer_id, status, category, priority, channel) SELECT generateUUIDv4(), ${t}, concat('t-', toString(number)), ${c}, 'opened', 'complaint', 'low', 'email' FROM numbers(${customers})`,
    `INSERT INTO surveys (event_id, occurred_at, response_id, customer_id, kind, score, scale_max, comment) SELECT generateUUIDv4(), ${t}, concat('r-', toString(number)), ${c}, 'nps', 5, 10, 'a comment' FROM numbers(${customers})`,
    `INSERT INTO customer_profiles (customer_id, first_seen_at, last_seen_at, as_of, updated_at) SELECT ${c}, ${t}, ${t}, ${t}, ${t} FROM numbers(${customers})`,
    `INSERT INTO customer_scores_history (customer_id, as_of, updated_at) SELECT ${c}, ${t}, ${t} FROM numbers(${customers})`,
    `INSERT INTO segment_changes (event_id, customer_id, segment_type, \`to\`, as_of, changed_at) SELECT generateUUIDv4(), ${c}, 'rfm', 'champions', ${t}, ${t} FROM numbers(${customers})`,
  ];
  for (const query of statements) await clickhouse.command({ query });
  console.log(`generated ${customers.toLocaleString()} customers, ${(customers * orders).toLocaleString()} orders, ${(customers * clicks).toLocaleString()} clicks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const times: number[] = [];
  for (let i = 0; i < erasures; i++) {
    const id = `c-${Math.floor(((i + 0.5) * customers) / erasures)}`;
    const erasure = await eraseCustomer(clickhouse, id, { announce: async () => undefined, settle: async () => undefined });
    const left = Object.values(await customerRowCounts(clickhouse, id, erasure.anonymousIds)).reduce((a, b) => a + b, 0);
    if (left !== 0) throw new Error(`${id}: ${left} rows left after the erasure`);
    times.push(erasure.ms);
    console.log(`erased ${id}: ${Object.values(erasure.deleted).reduce((a, b) => a + b, 0)} rows in ${erasure.ms} ms`);
  }
  times.sort((a, b) => a - b);
  console.log(`median ${times[Math.floor(times.length / 2)]} ms, max ${times.at(-1)} ms over ${erasures} erasures`);
  await clickhouse.close();
} finally {
  await host.stop();
}
