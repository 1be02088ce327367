/**
 * Ingest alone, against its limits (bench/measure-ingest.ts): N messages of
 * the realistic load produced to a fresh broker, then ingest, the bare
 * consumer, the direct insert and chDB in-process on the same data. `pnpm bench` runs this and
 * the rest of the suite.
 *
 *   pnpm bench:ingest [--events 1000000]
 */
import { parseArgs } from 'node:util';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { startEphemeralStack } from './ephemeral-stack.js';
import { measureBareConsumer, measureChdbInProcess, measureDirectInsert, measureIngest, produceLoad } from './measure-ingest.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
const say = (line: string) => process.stderr.write(`${line}\n`);

const stack = await startEphemeralStack(say);
try {
  const namespace = 'bench';
  const topics = topicNames(namespace);
  const kafka = createKafka({ KAFKA_BROKERS: stack.brokers }, { clientId: 'bench', logger: createLogger('bench', 'error') });
  await ensureTopics(kafka, Object.values(topics), 6);
  const load = await produceLoad(kafka, topics, { seed: 2026, events: Number(values.events), duplicateShare: 0.01 }, say);
  const ingest = await measureIngest(kafka, { brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, namespace, database: 'crm' }, topics, load, say);
  const bare = await measureBareConsumer(kafka, topics, load.messages);
  const direct = await measureDirectInsert(stack.clickhouse.url, load, 5000, say);
  const inProcess = await measureChdbInProcess(load, 5000, say);
  const limit = Math.min(bare.messagesPerSecond, direct.messagesPerSecond);
  const rows = [
    ['messages (malformed, re-deliveries)', `${load.messages.toLocaleString()} (${load.malformed.toLocaleString()}, ${load.redeliveries.toLocaleString()})`],
    ['ingest', `${Math.round(ingest.messagesPerSecond).toLocaleString()} messages/s, peak RSS ${ingest.peakRssMiB.toFixed(0)} MiB, rows ${ingest.exact ? 'exact' : 'MISMATCH'}`],
    ['bare consumer', `${Math.round(bare.messagesPerSecond).toLocaleString()} messages/s`],
    ['direct insert', `${Math.round(direct.messagesPerSecond).toLocaleString()} messages/s (${Math.round(direct.rowsPerSecond).toLocaleString()} rows/s)`],
    ['chDB in-process insert', `${Math.round(inProcess.messagesPerSecond).toLocaleString()} messages/s (${Math.round(inProcess.rowsPerSecond).toLocaleString()} rows/s)`],
    ['ingest / min(limits)', `${((100 * ingest.messagesPerSecond) / limit).toFixed(0)} %`],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n')}\n`);
} finally {
  await stack.stop();
}
