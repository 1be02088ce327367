import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { Kafka } from 'kafkajs';
import { createProducer, groupId } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import { rowToOrder, type ColumnMapping, type ImportDefaults } from './order-rows.js';

export interface ImportOptions {
  file: string;
  format: 'csv' | 'ndjson';
  mapping: ColumnMapping;
  defaults: ImportDefaults;
  ordersTopic: string;
  onProgress?: (counts: ImportCounts) => void;
}

export interface ImportCounts {
  rows: number;
  accepted: number;
  rejected: number;
  /** The first rejected rows with their line and reason. */
  rejections: { line: number; reason: string }[];
  /** Where the sent rows are: the line of each event_id, and the topics' end offsets before the first send. */
  sent: { lineOf: Map<string, number>; ordersFrom: { partition: number; offset: string }[]; deadLettersFrom: { partition: number; offset: string }[] };
}

async function* rows(file: string, format: 'csv' | 'ndjson'): AsyncGenerator<{ line: number; row: Record<string, string> }> {
  if (format === 'csv') {
    const parser = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true, trim: true, bom: true }));
    let line = 1;
    for await (const row of parser as AsyncIterable<Record<string, string>>) yield { line: ++line, row };
    return;
  }
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file) })) {
    line++;
    if (text.trim() === '') continue;
    const value = JSON.parse(text) as Record<string, unknown>;
    yield { line, row: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])) };
  }
}

/**
 * Backfill through the real path: each row becomes an order event on the
 * orders topic (keyed by customer), validated first so a bad row is reported
 * with its line instead of being sent to the dead-letter topic.
 */
export async function importOrders(kafka: Kafka, options: ImportOptions & { deadLetterTopic: string }): Promise<ImportCounts> {
  const admin = kafka.admin();
  await admin.connect();
  const [ordersFrom, deadLettersFrom] = await Promise.all(
    [options.ordersTopic, options.deadLetterTopic].map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }))),
  ).finally(() => admin.disconnect());
  const counts: ImportCounts = { rows: 0, accepted: 0, rejected: 0, rejections: [], sent: { lineOf: new Map(), ordersFrom: ordersFrom!, deadLettersFrom: deadLettersFrom! } };
  const producer = createProducer(kafka);
  await producer.connect();
  let batch: { key: string; value: string; headers: Record<string, string> }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({ topic: options.ordersTopic, acks: -1, messages: batch });
    counts.accepted += batch.length;
    batch = [];
    options.onProgress?.(counts);
  };
  try {
    for await (const { line, row } of rows(options.file, options.format)) {
      counts.rows++;
      const outcome = rowToOrder(row, line, options.mapping, options.defaults);
      if (outcome.ok) {
        batch.push({ key: outcome.event.customer_id, value: JSON.stringify(outcome.event), headers: { 'content-type': 'application/json' } });
        counts.sent.lineOf.set(outcome.event.event_id, line);
        if (batch.length >= 2000) await flush();
      } else {
        counts.rejected++;
        if (counts.rejections.length < 20) counts.rejections.push({ line, reason: outcome.reason });
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return counts;
}

/**
 * Waits until the ingest group has committed everything now on the topic:
 * ingest commits only after ClickHouse acknowledged, so the rows are queryable.
 */
export async function waitUntilIngested(
  kafka: Kafka,
  topic: string,
  options: { namespace: string; ingestGroup: string; timeoutMs: number; onProgress?: (done: number, total: number) => void },
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const total = ends.reduce((n, p) => n + Number(p.high), 0);
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const offsets = await admin.fetchOffsets({ groupId: groupId(options.namespace, options.ingestGroup), topics: [topic] }).catch(() => []);
      const committed = new Map((offsets[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const done = ends.reduce((n, p) => n + Math.min(Number(p.high), Math.max(0, committed.get(p.partition) ?? 0)), 0);
      options.onProgress?.(done, total);
      if (ends.every((p) => Number(p.high) === 0 || (committed.get(p.partition) ?? -1) >= Number(p.high))) return;
      if (Date.now() > deadline) throw new Error(`ingest has committed ${done} of ${total} messages after ${options.timeoutMs} ms; is it running? (crm status)`);
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

export interface IngestOutcome {
  /** Sent rows ingest stored (distinct events). */
  stored: number;
  /** Sent rows ingest dead-lettered, by reason code. */
  deadLettered: Map<string, number>;
  /** The first dead-lettered rows with their line, reason code and message. */
  examples: { line: number; code: string; message: string }[];
}

/**
 * What ingest made of the rows an import sent, once it committed past them: every dead
 * letter from the orders topic since the import began whose event is one of ours (ingest
 * sends dead letters before it commits, so they are all there) is a row rejected, with its
 * reason; the rest were stored.
 */
export async function ingestOutcome(kafka: Kafka, options: { ordersTopic: string; deadLetterTopic: string; sent: ImportCounts['sent'] }): Promise<IngestOutcome> {
  const outcome: IngestOutcome = { stored: 0, deadLettered: new Map(), examples: [] };
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(options.deadLetterTopic).finally(() => admin.disconnect());
  const from = new Map(options.sent.deadLettersFrom.map((p) => [p.partition, BigInt(p.offset)]));
  const remaining = new Map(ends.map((p) => [p.partition, BigInt(p.high)] as const).filter(([partition, high]) => high > (from.get(partition) ?? 0n)));
  const rejected = new Set<string>();
  if (remaining.size > 0) {
    const consumer = kafka.consumer({ groupId: `crm-import-outcome-${randomUUID()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [options.deadLetterTopic] });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const end = remaining.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              if (message.headers?.['dlq.source.topic']?.toString() === options.ordersTopic) {
                const eventId = eventIdOf(message.value);
                const line = eventId === undefined ? undefined : options.sent.lineOf.get(eventId);
                if (eventId !== undefined && line !== undefined && !rejected.has(eventId)) {
                  rejected.add(eventId);
                  const code = message.headers['dlq.reason.code']?.toString() ?? 'unknown';
                  outcome.deadLettered.set(code, (outcome.deadLettered.get(code) ?? 0) + 1);
                  if (outcome.examples.length < 20) outcome.examples.push({ line, code, message: message.headers['dlq.reason.message']?.toString() ?? '' });
                }
              }
              if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
              if (remaining.size === 0) resolve();
            },
          })
          .then(() => {
            for (const [partition] of remaining) consumer.seek({ topic: options.deadLetterTopic, partition, offset: String(from.get(partition) ?? 0n) });
          }, reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  outcome.stored = options.sent.lineOf.size - rejected.size;
  outcome.examples.sort((a, b) => a.line - b.line);
  return outcome;
}

function eventIdOf(value: Buffer | null): string | undefined {
  try {
    const id = (JSON.parse(value?.toString() ?? '') as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
