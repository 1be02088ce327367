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
export async function importOrders(kafka: Kafka, options: ImportOptions): Promise<ImportCounts> {
  const counts: ImportCounts = { rows: 0, accepted: 0, rejected: 0, rejections: [] };
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
