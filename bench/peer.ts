/**
 * Ours against the peer (ClickHouse's Kafka engine + materialized views) on one JSON click topic,
 * alone: the third part of `pnpm bench`, for iterating on ingest. `--repeat N` alternates the two
 * N times in the same run (fresh topic each time), so the ratio compares like with like.
 *
 * `--baseline <checkout>` also runs another checkout's ingest (e.g. /work/main) on the same load in
 * each round, so a change is measured against what it replaces under the same machine state.
 *
 *   pnpm bench:peer [--events 300000] [--repeat 1] [--baseline <checkout>]
 */
import { parseArgs } from 'node:util';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { createClickHouse, migrate } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { cpuSeconds, startEphemeralStack } from './ephemeral-stack.js';
import { measureIngest, produceLoad, readOnceBeforeTiming } from './measure-ingest.js';
import { measureKafkaEnginePeer } from './kafka-engine-peer.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '300000' }, repeat: { type: 'string', default: '1' }, baseline: { type: 'string' } } });
const started = Date.now();
const say = (line: string) => process.stderr.write(`[${Math.round((Date.now() - started) / 1000)} s] ${line}\n`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

const stack = await startEphemeralStack(say);
try {
  const kafka = createKafka({ KAFKA_BROKERS: stack.brokers }, { clientId: 'bench', logger: createLogger('bench', 'error') });
  const lines: string[] = [];
  for (let i = 0; i < Number(values.repeat); i++) {
    const namespace = `peer${i}`;
    const topics = topicNames(namespace);
    await ensureTopics(kafka, Object.values(topics), 6);
    const load = await produceLoad(kafka, topics, { seed: 77 + i, events: Number(values.events), avroShare: 0, malformedShare: 0, end: new Date(Date.now() - 86_400_000) }, say, ['clicks']);
    await readOnceBeforeTiming(kafka, topics, load);
    const runOurs = () => measureIngest(kafka, { brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, namespace, database: `peer_ours${i}`, hostPid: stack.clickhouse.pid }, topics, load, say);
    const runBaseline = (checkout: string) =>
      measureIngest(kafka, { brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, namespace, database: `peer_base${i}`, group: 'crm-ingest-baseline', hostPid: stack.clickhouse.pid }, topics, load, say, checkout);
    // Alternating which goes first, so neither always reads the topic cold.
    let ours;
    let baseline;
    if (values.baseline && i % 2 === 0) {
      baseline = await runBaseline(values.baseline);
      ours = await runOurs();
    } else {
      ours = await runOurs();
      baseline = values.baseline ? await runBaseline(values.baseline) : undefined;
    }
    const database = `peer_theirs${i}`;
    const admin = createClickHouse({ CLICKHOUSE_URL: stack.clickhouse.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database }, { database: false });
    await migrate(admin, database);
    const hostCpuBefore = cpuSeconds(stack.clickhouse.pid!);
    const peer = await measureKafkaEnginePeer({ clickhouse: admin, brokers: stack.brokers, topic: topics.clicks, database, expectedRows: load.valid.clicks.size, say });
    const peerCpuUs = (1e6 * (cpuSeconds(stack.clickhouse.pid!) - hostCpuBefore)) / load.messages;
    await admin.close();
    const cpu = (m: { cpuUsPerMessage: { ingest: number; host?: number } }) => `CPU µs/message: ingest ${m.cpuUsPerMessage.ingest.toFixed(0)}, host ${m.cpuUsPerMessage.host?.toFixed(0)}`;
    lines.push(
      (baseline ? `run ${i + 1}: baseline ${int(baseline.messagesPerSecond)} messages/s (${baseline.seconds.toFixed(1)} s, rows ${baseline.exact ? 'exact' : 'MISMATCH'}; ${cpu(baseline)}), ${(baseline.messagesPerSecond / peer.rowsPerSecond).toFixed(2)}× the peer\n` : '') +
      `run ${i + 1}: ours ${int(ours.messagesPerSecond)} messages/s (${ours.seconds.toFixed(1)} s, rows ${ours.exact ? 'exact' : 'MISMATCH'}; ${cpu(ours)}), ` +
        `peer ${int(peer.rowsPerSecond)} rows/s (${peer.seconds.toFixed(1)} s, ${peer.rows === load.valid.clicks.size ? 'exact' : 'MISMATCH'}; host CPU µs/message ${peerCpuUs.toFixed(0)}), ours / peer ${(ours.messagesPerSecond / peer.rowsPerSecond).toFixed(2)}×`,
    );
    say(lines.at(-1)!);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
} finally {
  await stack.stop();
}
