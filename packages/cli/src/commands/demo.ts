import type { Kafka } from 'kafkajs';
import { createProducer } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import type { ClickHouseClient } from '@crm/clickhouse';
import { generateOrderEvents } from '@crm/sample-data';
import { createWriteLease, runScoring, scoringParameters, writeLeaseOptions, type ScoringConfig } from '@crm/scoring';
import type { Say } from '../stack/stack.js';

export interface DemoOptions {
  seed: number;
  customers: number;
  ordersTopic: string;
  timeoutMs: number;
  /** The scoring settings the service runs with. */
  /** The scoring service's own settings (SCORING_*, RISK_*, the lease). */
  scoring: ScoringConfig;
}

/** Produces a seeded sample, waits until ingest has it all in ClickHouse, scores, and summarises. */
export async function runDemo(kafka: Kafka, clickhouse: ClickHouseClient, options: DemoOptions, say: Say): Promise<void> {
  const prefix = `demo${options.seed}`;
  const events = generateOrderEvents({ seed: options.seed, customers: options.customers, end: new Date(), idPrefix: prefix });
  const unique = new Set(events.map((e) => e.event_id)).size;
  say(`producing ${events.length} order events (${unique} unique, ${events.length - unique} re-deliveries) for ${options.customers} customers…`);

  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1000) {
      await producer.send({
        topic: options.ordersTopic,
        acks: -1,
        messages: events.slice(i, i + 1000).map((e) => ({
          key: e.customer_id,
          value: JSON.stringify(e),
          headers: { 'content-type': 'application/json' },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }

  const deadline = Date.now() + options.timeoutMs;
  let stored = 0;
  while (stored < unique) {
    if (Date.now() > deadline) throw new Error(`only ${stored} of ${unique} events reached ClickHouse in time; is ingest running? (crm status)`);
    await sleep(500);
    const result = await clickhouse.query({
      query: 'SELECT uniqExact(event_id) AS n FROM orders WHERE startsWith(order_id, {prefix:String})',
      query_params: { prefix: `${prefix}-` },
      format: 'JSONEachRow',
    });
    stored = Number((await result.json<{ n: string | number }>())[0]?.n ?? 0);
    say(`ingested ${stored}/${unique}`);
  }

  // The same settings and the same write lease as the scoring service that `crm up` started.
  const lease = createWriteLease(clickhouse, writeLeaseOptions(options.scoring));
  const run = await runScoring(clickhouse, new Date(), scoringParameters(options.scoring), undefined, lease).finally(() => lease.close());
  say(`scored ${run.customers} customers as of ${run.asOf.toISOString()} in ${run.ms} ms`);
  for (const fit of [run.fits.bgnbd, run.fits.mbgnbd, run.fits.gammaGamma]) {
    if (fit) say(`  ${fit.model}: ${Object.entries(fit.params).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ')}`);
  }
  for (const failure of run.fits.failures) say(`  ${failure.model}: not fitted (${failure.error}); its scores stay empty`);
}
