/**
 * Latency of the output events under a steady load: ingest, scoring (one full
 * run at start, then incremental updates) and the publisher run as their own
 * processes; mixed background events stream at a steady rate while probes are
 * produced — complaints from gold/platinum customers (→ crm.customer-at-risk.v1)
 * and orders from churned customers (→ crm.segment-changes.v1, churned →
 * reactivated). Each probe's latency is from its produce call to the arrival
 * of the resulting event at a subscriber.
 *
 *   pnpm bench:latency [--seconds 60] [--rate 300] [--probes 40]
 *
 * BENCH_PHASES=1 adds where an update's time goes (trace: every statement);
 * BENCH_DUMP=<dir> writes each service's log, and the host's per-query lines, there as JSON lines.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { decodeEvent, encodeEvent, type CustomerAtRiskEvent, type EventsByName, type OrderEvent, type SegmentChangeEvent, type TicketEvent } from '@crm/events';
import { createKafka, createProducer, ensureTopics, topicNames } from '@crm/kafka';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger, sleep } from '@crm/runtime';
import { generateCustomerEvents, generateOrderEvents } from '@crm/sample-data';
import { spawnService, type ServiceProcess } from '../test/support/processes.js';
import { peakRssMiB, startEphemeralStack } from './ephemeral-stack.js';

export interface LatencyOptions {
  brokers: string;
  clickhouseUrl: string;
  seconds: number;
  /** Background events per second. */
  rate: number;
  /** Probes of each kind. */
  probes: number;
  say: (line: string) => void;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  max: number;
  missing: number;
}

export interface LatencyResult {
  complaintToAtRisk: Percentiles;
  orderToSegmentChange: Percentiles;
  backgroundEvents: number;
  peakRssMiB: Record<string, number>;
}

const DAY = 86_400_000;
const NAMES = ['orders', 'clicks', 'tickets', 'surveys'] as const;

export function percentiles(values: readonly number[], expected: number): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank percentiles: the value at or below which the share of samples lies.
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN, missing: expected - sorted.length };
}

export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  const { say } = options;
  const namespace = `latency${Date.now()}`;
  const database = `latency${Date.now()}`;
  const topics = topicNames(namespace);
  const kafka = createKafka({ KAFKA_BROKERS: options.brokers }, { clientId: 'bench-latency', logger: createLogger('bench', 'error') });
  await ensureTopics(kafka, Object.values(topics), 6);
  const env = {
    KAFKA_BROKERS: options.brokers,
    CLICKHOUSE_URL: options.clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    CRM_TOPIC_NAMESPACE: namespace,
    CRM_FX_RATES: '{"EUR":1.08}',
    INGEST_HEALTH_PORT: '0',
    SCORING_HEALTH_PORT: '0',
    PUBLISHER_HEALTH_PORT: '0',
    SCORING_INTERVAL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
  };
  const producer = createProducer(kafka);
  await producer.connect();
  const send = async <N extends (typeof NAMES)[number]>(name: N, events: readonly EventsByName[N][]) => {
    for (let i = 0; i < events.length; i += 2000) {
      await producer.send({
        topic: topics[name],
        acks: -1,
        messages: events.slice(i, i + 2000).map((e, j) => {
          const event = e as { customer_id: string | null; anonymous_id?: string };
          const encoding = j % 2 === 0 ? 'json' : 'avro';
          return {
            key: event.customer_id ?? event.anonymous_id!,
            value: encodeEvent(name, e, encoding),
            headers: { 'content-type': `application/${encoding}` },
          };
        }),
      });
    }
  };

  // A history for the fits and the tiers, ingested before the services that score it start.
  const history = generateOrderEvents({ seed: 4242, customers: 3000, end: new Date(Date.now() - DAY), days: 700, idPrefix: 'hist' });
  const services: Record<string, ServiceProcess> = { ingest: spawnService('services/ingest/src/main.ts', { ...env, ...(process.env.BENCH_DUMP && { LOG_LEVEL: 'info' }) }) };
  const clickhouse = createClickHouse({ CLICKHOUSE_URL: options.clickhouseUrl, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database });
  try {
    await send('orders', history);
    const scalar = async (query: string) => Number((await (await clickhouse.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n ?? 0);
    const distinctHistory = new Set(history.map((e) => e.event_id)).size;
    while ((await scalar('SELECT uniqExact(event_id) AS n FROM orders').catch(() => 0)) < distinctHistory) await sleep(500);
    say(`history ingested: ${distinctHistory.toLocaleString()} order events`);
    services.scoring = spawnService('services/scoring/src/main.ts', { ...env, LOG_LEVEL: process.env.BENCH_PHASES === 'trace' ? 'trace' : process.env.BENCH_PHASES ? 'debug' : 'info' });
    services.publisher = spawnService('services/publisher/src/main.ts', { ...env, ...(process.env.BENCH_PHASES && { LOG_LEVEL: 'debug' }) });
    // The commit mark is the last write of a run: its profiles are in place.
    while ((await scalar('SELECT count() AS n FROM outbox_commits').catch(() => 0)) === 0) await sleep(500);
    say('first full scoring run done; starting the steady load');

    const pick = async (where: string, n: number) =>
      (await (await clickhouse.query({
        query: `SELECT customer_id FROM customer_profiles FINAL WHERE ${where} ORDER BY cityHash64(customer_id) LIMIT ${n}`,
        format: 'JSONEachRow',
      })).json<{ customer_id: string }>()).map((r) => r.customer_id);
    // The real-time rule gates on the worth-keeping tier (the pyramid of clv_alive_12m over the run's
    // keep_cuts), not value_tier: gold or better there, and not at risk already (a baseline records without sending).
    const valuable = await pick(
      `value_tier IN ('gold', 'platinum') AND open_complaints = 0 AND ifNull(churn_probability, 0) < 0.5
       AND 1 + arrayCount(c -> ifNull(clv_alive_12m, 0) > c, (SELECT keep_cuts FROM scoring_runs FINAL ORDER BY as_of DESC LIMIT 1)) >= 3
       AND customer_id NOT IN (SELECT customer_id FROM at_risk_customers)`,
      options.probes,
    );
    const churned = await pick("lifecycle_stage = 'churned' AND purchases_total > 0", options.probes);
    say(`probes: ${valuable.length} complaints from gold/platinum customers, ${churned.length} orders from churned customers`);

    // The subscriber: arrival time of the first matching event per probe customer.
    const arrivals = { atRisk: new Map<string, number>(), reactivated: new Map<string, number>() };
    // When scoring decided (the event's detected_at or changed_at: its write's instant), for BENCH_PHASES.
    const decided = { atRisk: new Map<string, number>(), reactivated: new Map<string, number>() };
    const subscriber = kafka.consumer({ groupId: `${namespace}.bench-subscriber` });
    await subscriber.connect();
    await subscriber.subscribe({ topics: [topics.customerAtRisk, topics.segmentChanges], fromBeginning: false });
    await subscriber.run({
      eachMessage: async ({ topic, message }) => {
        const now = Date.now();
        const contentType = message.headers?.['content-type']?.toString() ?? 'application/json';
        if (topic === topics.customerAtRisk) {
          const d = decodeEvent('customer-at-risk', message.value!, contentType);
          const e = d.ok ? (d.event as CustomerAtRiskEvent) : undefined;
          if (e && !arrivals.atRisk.has(e.customer_id)) {
            arrivals.atRisk.set(e.customer_id, now);
            decided.atRisk.set(e.customer_id, Date.parse(e.detected_at));
          }
        } else {
          const d = decodeEvent('segment-changes', message.value!, contentType);
          const e = d.ok ? (d.event as SegmentChangeEvent) : undefined;
          if (e && e.segment_type === 'lifecycle' && e.from === 'churned' && !arrivals.reactivated.has(e.customer_id)) {
            arrivals.reactivated.set(e.customer_id, now);
            decided.reactivated.set(e.customer_id, Date.parse(e.changed_at));
          }
        }
      },
    });
    await sleep(3000); // the subscriber's group settles before anything is measured

    const produced = { atRisk: new Map<string, number>(), reactivated: new Map<string, number>() };
    const probes = [
      ...valuable.map((c) => ({ kind: 'atRisk' as const, customer: c })),
      ...churned.map((c) => ({ kind: 'reactivated' as const, customer: c })),
    ];
    const probeEvery = (options.seconds * 1000 * 0.8) / Math.max(1, probes.length);
    let background = 0;
    let nextProbe = 0;
    const started = Date.now();
    for (let tick = 0; Date.now() - started < options.seconds * 1000; tick++) {
      const sample = generateCustomerEvents({ seed: 900 + tick, customers: Math.max(1, Math.round(options.rate / 12)), end: new Date(), days: 30, idPrefix: `bg${tick}` });
      // About `rate` events this second, in the sample's proportions of the four kinds.
      const total = NAMES.reduce((n, name) => n + sample[name].length, 0);
      for (const name of NAMES) {
        const share = sample[name].slice(0, Math.ceil((options.rate * sample[name].length) / Math.max(1, total)));
        await send(name, share as never[]);
        background += share.length;
      }
      while (nextProbe < probes.length && Date.now() - started >= nextProbe * probeEvery) {
        const probe = probes[nextProbe++]!;
        produced[probe.kind].set(probe.customer, Date.now());
        if (probe.kind === 'atRisk') {
          const ticket: TicketEvent = {
            event_id: randomUUID(), occurred_at: new Date().toISOString(), schema_version: 1, ticket_id: randomUUID(), customer_id: probe.customer,
            status: 'opened', category: 'complaint', priority: 'high', channel: 'phone',
          };
          await send('tickets', [ticket]);
        } else {
          const order: OrderEvent = {
            event_id: randomUUID(), occurred_at: new Date().toISOString(), schema_version: 1, order_id: randomUUID(), customer_id: probe.customer,
            status: 'paid', placed_at: new Date().toISOString(), total: 49.5, refunded_amount: 0, currency: 'USD', channel: 'app', payment_method: 'credit',
            items: [{ sku: 'sku-probe', category: 'home', quantity: 1, unit_price: 49.5 }],
          };
          await send('orders', [order]);
        }
      }
      const elapsed = Date.now() - started;
      await sleep(Math.max(0, (tick + 1) * 1000 - elapsed));
      if (tick % 10 === 9) say(`  ${Math.round(elapsed / 1000)} s: ${background.toLocaleString()} background events, ${nextProbe}/${probes.length} probes sent`);
    }
    // Late arrivals still count, up to a bound.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (arrivals.atRisk.size < produced.atRisk.size || arrivals.reactivated.size < produced.reactivated.size)) await sleep(250);
    await subscriber.disconnect();

    const latencies = (kind: 'atRisk' | 'reactivated') =>
      [...produced[kind]].flatMap(([customer, at]) => (arrivals[kind].has(customer) ? [arrivals[kind].get(customer)! - at] : []));
    const jobs = services.scoring!.lines.filter((l) => l.msg === 'customers re-scored').map((l) => Number(l.ms));
    say(`incremental re-score jobs: ${jobs.length}, ${percentiles(jobs, jobs.length).p50} ms median, ${percentiles(jobs, jobs.length).p95} ms p95`);
    if (process.env.BENCH_PHASES) {
      for (const topic of [topics.orders, topics.tickets]) {
        const batches = services.scoring!.lines.filter((l) => l.msg === 'batch re-scored' && l.topic === topic);
        const waited = batches.map((l) => Number(l.waitedForIngestMs));
        const rescored = batches.map((l) => Number(l.rescoredMs));
        say(`  ${topic}: waited for ingest p50 ${percentiles(waited, waited.length).p50} ms p95 ${percentiles(waited, waited.length).p95} ms; re-scored after p50 ${percentiles(rescored, rescored.length).p50} ms`);
      }
      for (const kind of ['atRisk', 'reactivated'] as const) {
        const split = [...produced[kind]].flatMap(([customer, at]) => {
          const when = decided[kind].get(customer);
          return when === undefined ? [] : [{ decided: when - at, delivered: arrivals[kind].get(customer)! - when }];
        });
        const p = (xs: number[]) => percentiles(xs, xs.length);
        say(`  ${kind}: produced → decided p50 ${p(split.map((x) => x.decided)).p50} ms p95 ${p(split.map((x) => x.decided)).p95} ms; decided → received p50 ${p(split.map((x) => x.delivered)).p50} ms p95 ${p(split.map((x) => x.delivered)).p95} ms`);
      }
      const phases = new Map<string, number[]>();
      for (const l of services.scoring!.lines.filter((x) => x.msg === 'scoring phase done')) phases.set(String(l.phase), [...(phases.get(String(l.phase)) ?? []), Number(l.ms)]);
      for (const [phase, ms] of phases) say(`  phase ${phase}: median ${percentiles(ms, ms.length).p50} ms over ${ms.length}`);
    }
    const dump = process.env.BENCH_DUMP;
    if (dump) for (const [name, s] of Object.entries(services)) s.saveLog(join(dump, `${name}.jsonl`));
    const peak = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, peakRssMiB(s.child.pid!)]));
    return {
      complaintToAtRisk: percentiles(latencies('atRisk'), produced.atRisk.size),
      orderToSegmentChange: percentiles(latencies('reactivated'), produced.reactivated.size),
      backgroundEvents: background,
      peakRssMiB: peak,
    };
  } finally {
    await producer.disconnect();
    for (const s of Object.values(services)) await s.kill('SIGTERM');
    await clickhouse.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, rate: { type: 'string', default: '300' }, probes: { type: 'string', default: '40' } } });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const stack = await startEphemeralStack(say);
  try {
    const result = await measureLatency({
      brokers: stack.brokers,
      clickhouseUrl: stack.clickhouse.url,
      seconds: Number(values.seconds),
      rate: Number(values.rate),
      probes: Number(values.probes),
      say,
    });
    const line = (name: string, p: Percentiles) =>
      `${name.padEnd(34)} p50 ${p.p50} ms   p95 ${p.p95} ms   max ${p.max} ms   (${p.n} probes${p.missing ? `, ${p.missing} MISSING` : ''})`;
    process.stdout.write(
      `\n${line('complaint → customer-at-risk', result.complaintToAtRisk)}\n${line('order → segment-change', result.orderToSegmentChange)}\n` +
        `background events: ${result.backgroundEvents.toLocaleString()} over ${values.seconds} s\n` +
        `peak RSS MiB: ${Object.entries(result.peakRssMiB).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}\n`,
    );
  } finally {
    await stack.stop();
  }
}
