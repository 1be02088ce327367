/**
 * The benchmark suite, one command, one run on the local infrastructure:
 *
 *   pnpm bench [--events 1000000] [--peer-events 300000] [--peer-rounds 2] [--scoring 100000,1000000] [--latency-seconds 60]
 *              [--idle-customers 1000000] [--idle-seconds 600]
 *
 * 1. the realistic load (`generateLoad`) produced to a fresh broker;
 * 2. ingest end to end on it, the bare consumer and the direct insert on the
 *    same data (the limit), ingest as a fraction of the smaller, and the same
 *    rows inserted by chDB in-process (what the host itself costs);
 * 3. the peer — ClickHouse's Kafka engine with materialized views — and our
 *    ingest on one JSON click topic, as a ratio, in rounds that alternate which goes first;
 * 4. scoring of 100 000 and 1 000 000 customers (time, memory);
 * 5. latency of at-risk and segment-change events under a steady load;
 * 6. the scoring service's share of a core in an idle shop (defaults, no new events);
 * and prints one table, also written as JSON to .bench/ (ignored by git).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { createClickHouse } from '@crm/clickhouse';
import { createLogger, REPO_ROOT } from '@crm/runtime';
import { peakRssMiB, startEphemeralStack } from './ephemeral-stack.js';
import { measureBareConsumer, measureChdbInProcess, measureDirectInsert, measureIngest, produceLoad } from './measure-ingest.js';
import { combinedRates, peerRound, type PeerRound } from './peer-round.js';
import { measureScoring } from './scoring.js';
import { measureLatency } from './latency.js';
import { idleRow, measureIdle } from './idle.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'peer-events': { type: 'string', default: '300000' },
    'peer-rounds': { type: 'string', default: '2' },
    scoring: { type: 'string', default: '100000,1000000' },
    'latency-seconds': { type: 'string', default: '60' },
    'idle-customers': { type: 'string', default: '1000000' },
    'idle-seconds': { type: 'string', default: '600' },
  },
});
const started = Date.now();
const say = (line: string) => process.stderr.write(`[${Math.round((Date.now() - started) / 1000)} s] ${line}\n`);
const table: [string, string][] = [];
const results: Record<string, unknown> = {};
const row = (name: string, value: string) => {
  table.push([name, value]);
  say(`${name}: ${value}`);
};
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** A dependency's version, resolved from the workspace package that depends on it. */
const packageVersion = (name: string, from = '.') =>
  (JSON.parse(readFileSync(createRequire(join(REPO_ROOT, from, 'package.json')).resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
const kafkaVersion = /<kafka\.version>([^<]+)</.exec(readFileSync(join(REPO_ROOT, 'infra/kafka/pom.xml'), 'utf8'))?.[1] ?? '?';

const stack = await startEphemeralStack(say);
try {
  const clickhouseVersion = (await (await createClickHouse({ CLICKHOUSE_URL: stack.clickhouse.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' }).query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>())[0]!.v;
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    kernel: release(),
    node: process.version,
    kafka: kafkaVersion,
    chdb: packageVersion('chdb', 'services/clickhouse-host'),
    clickhouse: clickhouseVersion,
    kafkajs: packageVersion('kafkajs'),
  };
  results.machine = machine;
  row('machine', `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Linux ${machine.kernel}`);
  row('versions', `Node ${machine.node}, Kafka ${machine.kafka} (KRaft), chDB ${machine.chdb} (ClickHouse ${machine.clickhouse}), kafkajs ${machine.kafkajs}`);
  const kafka = createKafka({ KAFKA_BROKERS: stack.brokers }, { clientId: 'bench', logger: createLogger('bench', 'error') });

  // 1–2. Ingest against its limits.
  {
    const namespace = 'bench';
    const topics = topicNames(namespace);
    await ensureTopics(kafka, Object.values(topics), 6);
    say(`producing ${int(Number(values.events))} messages of the realistic load…`);
    const load = await produceLoad(kafka, topics, { seed: 2026, events: Number(values.events), duplicateShare: 0.01, end: new Date(Date.now() - 86_400_000) }, say);
    const kinds = Object.fromEntries(Object.entries(load.valid).map(([k, v]) => [k, v.size]));
    row('load', `${int(load.messages)} messages: ${Object.entries(kinds).map(([k, n]) => `${int(n)} ${k}`).join(', ')}; ${int(load.malformed)} malformed, ${int(load.redeliveries)} re-deliveries`);
    say('ingest…');
    const ingest = await measureIngest(kafka, { brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, namespace, database: 'crm' }, topics, load, say);
    row('ingest end to end (produced → rows queryable)', `${int(ingest.messagesPerSecond)} messages/s (${ingest.seconds.toFixed(1)} s), rows ${ingest.exact ? 'exact' : 'MISMATCH'}`);
    row('ingest peak RSS', `${int(ingest.peakRssMiB)} MiB`);
    say('bare consumer…');
    const bare = await measureBareConsumer(kafka, topics, load.messages);
    row('limit: bare consumer (reads, does nothing)', `${int(bare.messagesPerSecond)} messages/s`);
    say('direct insert…');
    const direct = await measureDirectInsert(stack.clickhouse.url, load, 5000, say);
    row('limit: direct insert of the same rows', `${int(direct.messagesPerSecond)} messages/s (${int(direct.rowsPerSecond)} rows/s)`);
    say('chDB in-process insert…');
    const inProcess = await measureChdbInProcess(load, 5000, say);
    row('limit: chDB in-process insert of the same rows', `${int(inProcess.messagesPerSecond)} messages/s (${int(inProcess.rowsPerSecond)} rows/s)`);
    const limit = Math.min(bare.messagesPerSecond, direct.messagesPerSecond);
    row('ingest / smaller limit', `${((100 * ingest.messagesPerSecond) / limit).toFixed(0)} % of ${bare.messagesPerSecond < direct.messagesPerSecond ? 'the bare consumer' : 'the direct insert'}`);
    results.ingest = { load: { messages: load.messages, malformed: load.malformed, redeliveries: load.redeliveries, kinds }, ingest, bare, direct, inProcess };
  }
  row('ClickHouse host peak RSS (after ingest)', `${int(peakRssMiB(stack.clickhouse.pid!))} MiB`);

  // 3. The peer, on one JSON click topic, against our ingest on the same topic.
  {
    const rounds: PeerRound[] = [];
    for (let i = 0; i < Number(values['peer-rounds']); i++) rounds.push(await peerRound(kafka, stack, { index: i, events: Number(values['peer-events']), say }));
    const rates = combinedRates(rounds);
    const each = (f: (r: PeerRound) => string) => (rounds.length > 1 ? ` (rounds: ${rounds.map(f).join(', ')})` : '');
    const allExact = rounds.every((r) => r.ours.exact);
    const peerExact = rounds.every((r) => r.peer.rows === r.validClicks);
    const mean = (f: (r: PeerRound) => number) => rounds.reduce((a, r) => a + f(r), 0) / rounds.length;
    row('ours on the click topic', `${int(rates.ours)} messages/s, rows ${allExact ? 'exact' : 'MISMATCH'}${each((r) => int(r.ours.messagesPerSecond))}`);
    row('peer: Kafka engine + MV, same topic, same table', `${int(rates.peer)} rows/s (${peerExact ? 'exact' : 'MISMATCH'}; ${int(rounds.reduce((a, r) => a + r.peer.insertedRows - r.peer.rows, 0))} re-read)${each((r) => int(r.peer.rowsPerSecond))}`);
    row('CPU per click message: ours, peer', `ingest ${int(mean((r) => r.ours.cpuUsPerMessage.ingest))} µs + host ${int(mean((r) => r.ours.cpuUsPerMessage.host ?? NaN))} µs; peer (host) ${int(mean((r) => r.peerCpuUsPerMessage))} µs`);
    row('ours / peer', `${rates.ratio.toFixed(2)}×${each((r) => `${(r.ours.messagesPerSecond / r.peer.rowsPerSecond).toFixed(2)}× ${r.order}`)}`);
    results.peer = { rounds, combined: rates };
  }

  // 5 before 4: latency needs the shared stack, scoring brings its own hosts.
  {
    say('latency under a steady load…');
    const latency = await measureLatency({ brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, seconds: Number(values['latency-seconds']), rate: 300, probes: 40, say });
    const p = (x: { p50: number; p95: number; n: number; missing: number }) => `p50 ${int(x.p50)} ms, p95 ${int(x.p95)} ms (${x.n} probes${x.missing ? `, ${x.missing} missing` : ''})`;
    row('latency: complaint → customer-at-risk', p(latency.complaintToAtRisk));
    row('latency: order → segment-change', p(latency.orderToSegmentChange));
    row('peak RSS under steady load', Object.entries(latency.peakRssMiB).map(([k, v]) => `${k} ${int(v)} MiB`).join(', '));
    results.latency = latency;
  }
  await stack.stop();

  // 4. Scoring at two scales, each in its own ClickHouse host.
  results.scoring = [];
  for (const customers of values.scoring.split(',').map(Number)) {
    say(`scoring ${int(customers)} customers…`);
    const scoring = await measureScoring(customers, customers * 10, say);
    row(`scoring ${int(customers)} customers (${int(scoring.orders)} orders)`, `${scoring.runSeconds.toFixed(1)} s, scoring RSS ${int(scoring.scoringPeakRssMiB)} MiB, ClickHouse RSS ${int(scoring.clickhousePeakRssMiB)} MiB`);
    // The peer row of the largest scale (the issue's figure); skipped where Python or lifetimes is missing.
    if (customers === Math.max(...values.scoring.split(',').map(Number))) {
      const peer = scoring.rows.find(([name]) => name === 'scoring vs lifetimes');
      if (peer) row('scoring vs lifetimes', peer[1]!);
    }
    (results.scoring as unknown[]).push({ ...scoring, rows: undefined });
  }

  // 6. An idle shop, with its own broker and ClickHouse host.
  say(`idle shop of ${int(Number(values['idle-customers']))} customers for ${values['idle-seconds']} s…`);
  const idle = await measureIdle({
    customers: Number(values['idle-customers']),
    orders: Number(values['idle-customers']) * 10,
    seconds: Number(values['idle-seconds']),
    settleSeconds: 30,
    say,
  });
  row(...idleRow(idle));
  results.idle = idle;
} catch (error) {
  await stack.stop().catch(() => undefined);
  throw error;
}

const seconds = (Date.now() - started) / 1000;
row('suite wall time', `${(seconds / 60).toFixed(1)} min`);
const width = Math.max(...table.map(([k]) => k.length));
process.stdout.write(`\n${table.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
const json = JSON.stringify({ at: new Date().toISOString(), seconds, table, results }, (_, v) => (v instanceof Set ? v.size : v), 2);
writeFileSync(join(REPO_ROOT, '.bench', `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), json);
writeFileSync(join(REPO_ROOT, '.bench', 'latest.json'), json);
process.stdout.write(`\nwritten to .bench/latest.json\n`);

