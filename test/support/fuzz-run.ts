import { expect } from 'vitest';
import type { Kafka, Message } from 'kafkajs';
import { createClickHouse } from '@crm/clickhouse';
import { chunkBySize, createProducer, ensureTopics, topicNames } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import { decodeMessage, loadIngestConfig, STREAMS } from '@crm/ingest';
import { spawnService } from './processes.js';
import { FUZZ_LIMITS, FUZZ_TOPICS, fuzzMessages, type FuzzKind, type FuzzTopic } from './fuzz.js';

export interface FuzzReport {
  seed: number;
  produced: number;
  byKind: Partial<Record<FuzzKind, number>>;
  rows: number;
  deadLetters: number;
  byReason: Record<string, number>;
  truncatedLetters: number;
  /** What ClickHouse said about rows it refused (should be none: validation equals storage). */
  storageRejections: string[];
  /** Offsets seen neither as a row nor as a dead letter, or as both, or more than once. */
  missing: string[];
  doubled: string[];
  /** Messages ingest's own decoder accepts, computed here from the produced bytes. */
  expectedAccepted: number;
  fatal: string[];
  readyStatus: number;
  seconds: { produce: number; ingest: number; total: number };
}

/**
 * Produces `count` fuzzed messages (test/support/fuzz.ts) through the real broker into a real
 * ingest and ClickHouse, then accounts for every offset of every input partition: each must be
 * exactly one row (by source_partition/source_offset) or exactly one dead letter (by dlq.source.*).
 */
export async function runIngestFuzz(options: {
  kafka: Kafka;
  env: Record<string, string> & { CRM_TOPIC_NAMESPACE: string };
  seed: number;
  count: number;
  log?: (line: string) => void;
}): Promise<FuzzReport> {
  const { kafka, seed, count } = options;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const topics = topicNames(options.env.CRM_TOPIC_NAMESPACE);
  await ensureTopics(kafka, Object.values(topics), 3);
  const ingestEnv = {
    ...options.env,
    INGEST_MAX_MESSAGE_BYTES: String(FUZZ_LIMITS.maxMessageBytes),
    INGEST_DEAD_LETTER_MAX_SEND_BYTES: String(FUZZ_LIMITS.deadLetterSendBytes),
  };
  const config = loadIngestConfig(ingestEnv);
  const fatal: string[] = [];
  // Its own process, as `crm up` runs it: generating and producing here must not starve its heartbeats.
  const ingest = spawnService('services/ingest/src/main.ts', ingestEnv);
  void ingest.exited.then((code) => fatal.push(`ingest exited with ${code}`));
  const running = await ingest.waitForLog((l) => l.msg === 'ingest running', 180_000);
  const healthPort = Number(running.healthPort);
  const clickhouse = createClickHouse(config);
  const producer = createProducer(kafka);
  await producer.connect();
  const streams = new Map(STREAMS.map((s) => [s.schema, s]));
  const ctx = { now: Date.now(), maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_SECONDS * 1000, maxMessageBytes: FUZZ_LIMITS.maxMessageBytes, reportingCurrency: config.CRM_REPORTING_CURRENCY, fxRates: config.CRM_FX_RATES };
  const report: FuzzReport = { seed, produced: 0, byKind: {}, rows: 0, deadLetters: 0, byReason: {}, truncatedLetters: 0, storageRejections: [], missing: [], doubled: [], expectedAccepted: 0, fatal, readyStatus: 0, seconds: { produce: 0, ingest: 0, total: 0 } };
  try {
    const pending = new Map<FuzzTopic, Message[]>(FUZZ_TOPICS.map((t) => [t, []]));
    let sends = 0;
    const flush = async (topic: FuzzTopic) => {
      for (const messages of chunkBySize(pending.get(topic)!, 900_000)) {
        // The codecs we also write: none, gzip, snappy (kafkajs's CompressionTypes values 0-2).
        await producer.send({ topic: topics[topic], acks: -1, messages, compression: sends++ % 3 });
      }
      pending.set(topic, []);
    };
    for (const m of fuzzMessages(seed, count)) {
      report.produced++;
      report.byKind[m.kind] = (report.byKind[m.kind] ?? 0) + 1;
      const decoded = decodeMessage(streams.get(m.topic)!, { key: m.key === null ? null : Buffer.from(m.key), value: m.value, headers: m.headers, partition: 0, offset: '0' }, ctx);
      if (decoded.ok) report.expectedAccepted++;
      pending.get(m.topic)!.push({ key: m.key, value: m.value, headers: m.headers });
      if (pending.get(m.topic)!.length >= 2000) await flush(m.topic);
      if (report.produced % 20_000 === 0) log(`fuzz: produced ${report.produced}/${count}`);
    }
    for (const topic of FUZZ_TOPICS) await flush(topic);
    report.seconds.produce = (Date.now() - started) / 1000;

    // Everything produced is handled once ingest's committed offsets reach the ends.
    const admin = kafka.admin();
    await admin.connect();
    const inputTopics = FUZZ_TOPICS.map((t) => topics[t]);
    const ends = new Map<string, number>();
    for (const topic of inputTopics) for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
    const deadline = Date.now() + Math.max(300_000, count * 20);
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId: `${options.env.CRM_TOPIC_NAMESPACE}.crm-ingest`, topics: inputTopics });
      const done = committed.every((t) => t.partitions.every((p) => Number(p.offset) >= (ends.get(`${t.topic}/${p.partition}`) ?? 0)));
      if (done || fatal.length > 0) break;
      if (Date.now() > deadline) throw new Error(`fuzz: ingest did not commit to the end in time: ${JSON.stringify(committed)}`);
      await sleep(500);
    }
    report.seconds.ingest = (Date.now() - started) / 1000 - report.seconds.produce;

    const seen = new Map<string, number>();
    const see = (id: string) => seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const topic of FUZZ_TOPICS) {
      const result = await clickhouse.query({ query: `SELECT DISTINCT source_partition AS p, source_offset AS o FROM ${topic}`, format: 'JSONCompactEachRow' });
      for (const [p, o] of await result.json<[number, number]>()) {
        see(`${topics[topic]}/${p}/${o}`);
        report.rows++;
      }
    }
    const dlqEnd = (await admin.fetchTopicOffsets(topics.deadLetter)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const letters = await readAllLetters(kafka, topics.deadLetter, dlqEnd);
    for (const [id, letter] of letters) {
      see(id);
      report.deadLetters++;
      report.byReason[letter.code] = (report.byReason[letter.code] ?? 0) + 1;
      if (letter.truncated) report.truncatedLetters++;
      if (letter.code === 'storage_rejected' && report.storageRejections.length < 5) report.storageRejections.push(letter.message.slice(0, 600));
    }
    for (const [partitionKey, end] of ends) {
      for (let o = 0; o < end; o++) {
        const n = seen.get(`${partitionKey}/${o}`) ?? 0;
        if (n === 0) report.missing.push(`${partitionKey}/${o}`);
        if (n > 1) report.doubled.push(`${partitionKey}/${o}`);
      }
    }
    report.readyStatus = (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status;
    // A crashed consumer is replaced without the process exiting, so a crash shows only in the log.
    const text = (line: Record<string, unknown>) => `${String(line.msg ?? '')} ${String((line.err as { message?: unknown } | undefined)?.message ?? '')}`;
    for (const line of ingest.lines) if (/crashed/.test(text(line))) fatal.push(text(line).slice(0, 300));
  } finally {
    await producer.disconnect();
    const exitsBefore = fatal.length;
    await ingest.kill('SIGTERM');
    fatal.splice(exitsBefore);
    await clickhouse.close();
  }
  report.seconds.total = (Date.now() - started) / 1000;
  return report;
}

/** Every dead letter up to `end`, keyed by its source (a re-delivered batch may dead-letter a message twice). */
async function readAllLetters(kafka: Kafka, topic: string, end: number): Promise<Map<string, { code: string; truncated: boolean; message: string }>> {
  const letters = new Map<string, { code: string; truncated: boolean; message: string }>();
  if (end === 0) return letters;
  const consumer = kafka.consumer({ groupId: `fuzz-reader-${Date.now()}`, maxBytes: 20 * 1024 * 1024 });
  let read = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fuzz: read ${read} of ${end} dead letters`)), 300_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const h = (name: string) => message.headers?.[name]?.toString();
        letters.set(`${h('dlq.source.topic')}/${h('dlq.source.partition')}/${h('dlq.source.offset')}`, { code: h('dlq.reason.code') ?? '?', truncated: h('dlq.truncated') === 'true', message: h('dlq.reason.message') ?? '' });
        if (++read >= end) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return letters;
}

export function formatFuzzReport(r: FuzzReport): string {
  return [
    `ingest fuzz, seed ${r.seed}: ${r.produced} messages → ${r.rows} rows + ${r.deadLetters} dead letters (${r.truncatedLetters} cut to a prefix); expected accepted ${r.expectedAccepted}`,
    `  by kind: ${JSON.stringify(r.byKind)}`,
    `  by reason: ${JSON.stringify(r.byReason)}`,
    ...r.storageRejections.map((m) => `  storage_rejected: ${m}`),
    `  missing ${r.missing.length}, doubled ${r.doubled.length}, fatal ${r.fatal.length}, /readyz ${r.readyStatus}`,
    `  seconds: produce ${r.seconds.produce.toFixed(1)}, ingest after produce ${r.seconds.ingest.toFixed(1)}, total ${r.seconds.total.toFixed(1)}`,
  ].join('\n');
}

/** What every fuzz run must show, short or long. */
export function expectAccountedFor(report: FuzzReport): void {
  expect(report.fatal).toEqual([]);
  expect(report.readyStatus).toBe(200);
  expect({ missing: report.missing.slice(0, 10), doubled: report.doubled.slice(0, 10) }).toEqual({ missing: [], doubled: [] });
  expect(report.rows + report.deadLetters).toBe(report.produced);
  // Validation equals what storage accepts: ingest's decoder decides alone, ClickHouse refuses nothing.
  expect(report.rows).toBe(report.expectedAccepted);
  expect(report.byReason.storage_rejected ?? 0).toBe(0);
  expect(report.rows).toBeGreaterThan(0);
  expect(report.deadLetters).toBeGreaterThan(0);
}
