/**
 * Ingest throughput: N mixed events (orders, clicks, tickets, surveys; JSON and
 * Avro; ~0.5 % malformed) are produced to a fresh broker first, then one ingest
 * process is started and timed until it has committed every message; the rows
 * are then checked against what was produced.
 *
 *   pnpm bench:ingest [--events 1000000]
 */
import { parseArgs } from 'node:util';
import { cpus, totalmem } from 'node:os';
import { encodeEvent, type EventsByName } from '@crm/events';
import { createProducer, createKafka, ensureTopics, groupId, topicNames } from '@crm/kafka';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { generateCustomerEvents } from '@crm/sample-data';
import { spawnService } from '../test/support/processes.js';
import { committedMessages } from '../test/support/kafka.js';
import { peakRssMiB, startEphemeralStack } from './ephemeral-stack.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
const target = Number(values.events);
const say = (line: string) => process.stderr.write(`${line}\n`);
const NAMES = ['orders', 'clicks', 'tickets', 'surveys'] as const;

const stack = await startEphemeralStack(say);
try {
  const namespace = 'bench';
  const topics = topicNames(namespace);
  const kafka = createKafka({ brokers: [stack.brokers], clientId: 'bench', logger: createLogger('bench', 'error') });
  await ensureTopics(kafka, Object.values(topics), 6);

  // Produce first, so the measurement is ingest alone.
  const producer = createProducer(kafka);
  await producer.connect();
  const unique = { orders: new Set<string>(), clicks: new Set<string>(), tickets: new Set<string>(), surveys: new Set<string>() };
  let produced = 0;
  let malformed = 0;
  const produceStart = Date.now();
  for (let chunk = 0; produced < target; chunk++) {
    const sample = generateCustomerEvents({ seed: 1000 + chunk, customers: 2000, end: new Date('2026-10-31T00:00:00Z'), idPrefix: `b${chunk}`, duplicateShare: 0.01 });
    const topicMessages = NAMES.map((name) => ({
      topic: topics[name],
      messages: (sample[name] as EventsByName[typeof name][]).map((event, i) => {
        const e = event as { event_id: string; customer_id: string | null; anonymous_id?: string };
        const encoding = i % 2 === 0 ? 'json' : 'avro';
        const bad = i % 200 === 199;
        if (bad) malformed++;
        else unique[name].add(e.event_id);
        return {
          key: e.customer_id ?? e.anonymous_id!,
          value: bad ? Buffer.from('{"not": "an event"}') : encodeEvent(name, event, encoding),
          headers: { 'content-type': bad || encoding === 'json' ? 'application/json' : 'application/avro' },
        };
      }),
    }));
    for (const tm of topicMessages) {
      for (let i = 0; i < tm.messages.length; i += 5000) {
        await producer.send({ topic: tm.topic, acks: -1, messages: tm.messages.slice(i, i + 5000) });
      }
      produced += tm.messages.length;
    }
    say(`produced ${produced.toLocaleString()} events`);
  }
  await producer.disconnect();
  const produceSeconds = (Date.now() - produceStart) / 1000;
  // Malformed messages replaced some valid ones; they are not expected in the tables.
  const admin = kafka.admin();
  await admin.connect();
  const inputTopics = NAMES.map((n) => topics[n]);
  const end = (await Promise.all(inputTopics.map((t) => admin.fetchTopicOffsets(t)))).flat().reduce((n, p) => n + Number(p.high), 0);

  const ingestStart = Date.now();
  const ingest = spawnService('services/ingest/src/main.ts', {
    KAFKA_BROKERS: stack.brokers,
    CLICKHOUSE_URL: stack.clickhouse.url,
    CRM_TOPIC_NAMESPACE: namespace,
    INGEST_HEALTH_PORT: '0',
    CRM_FX_RATES: '{"EUR":1.08}',
    LOG_LEVEL: 'warn',
  }, process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : []);
  let committed = 0;
  while (committed < end) {
    await new Promise((r) => setTimeout(r, 1000));
    if (ingest.child.exitCode !== null) throw new Error(`ingest exited with ${ingest.child.exitCode}`);
    committed = await committedMessages(kafka, groupId(namespace, 'crm-ingest'), inputTopics);
    const seconds = (Date.now() - ingestStart) / 1000;
    say(`ingested ${committed.toLocaleString()}/${end.toLocaleString()} (${Math.round(committed / seconds).toLocaleString()} events/s)`);
  }
  const ingestSeconds = (Date.now() - ingestStart) / 1000;
  const peak = peakRssMiB(ingest.child.pid!);
  await ingest.kill('SIGTERM');
  await admin.disconnect();

  const clickhouse = createClickHouse({ CLICKHOUSE_URL: stack.clickhouse.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'crm' });
  const counts: Record<string, number> = {};
  for (const name of NAMES) {
    const r = await clickhouse.query({ query: `SELECT uniqExact(event_id) AS n FROM ${name}`, format: 'JSONEachRow' });
    counts[name] = Number((await r.json<{ n: number }>())[0]!.n);
  }
  await clickhouse.close();

  const rows = [
    ['machine', `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`],
    ['events produced (messages)', end.toLocaleString()],
    ['  of which malformed', malformed.toLocaleString()],
    ['produce time', `${produceSeconds.toFixed(1)} s`],
    ['ingest time (process start → all committed)', `${ingestSeconds.toFixed(1)} s`],
    ['ingest rate', `${Math.round(end / ingestSeconds).toLocaleString()} events/s`],
    ['ingest peak RSS', `${peak.toFixed(0)} MiB`],
    ...NAMES.map((n) => [
      `unique events in ${n}`,
      `${counts[n]!.toLocaleString()} of ${unique[n].size.toLocaleString()} valid produced ${counts[n] === unique[n].size ? '(exact)' : '(MISMATCH)'}`,
    ]),
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n')}\n`);
} finally {
  await stack.stop();
}
