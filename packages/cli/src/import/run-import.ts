import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { CONTENT_TYPE_JSON } from '@crm/events';
import { DEFAULT_MAX_SEND_BYTES, chunkBySize, createProducer, groupId } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import type { Mapped } from './mapped.js';
import type { RowGroup } from './order-rows.js';
import { groupRows, readRows, type FileFormat } from './read-rows.js';
import { recordDeadLetter, recordSkip, type ImportReport, type SkipReason } from './report.js';

/** What to read and how one unit (a row, or an order's rows) becomes an event. */
export interface ImportPlan {
  file: string;
  format: FileFormat;
  /** Consecutive rows with the same value here are one unit (an order's line items). */
  groupBy?: string;
  /** Columns the mapping reads that a CSV header must have: one of each list (a wrong --preset or --map shows here, not as every row skipped). */
  needs: (readonly string[])[];
  toEvent: (group: RowGroup) => Mapped<{ event_id: string }>;
}

/** Where the events go; absent in a dry run. */
export interface ImportTarget {
  kafka: Kafka;
  topic: string;
  deadLetterTopic: string;
}

/** Marks every message of one run, so --wait finds this run's dead letters and each one's line (dead letters keep headers). */
export const RUN_HEADER = 'crm-import-run';
export const LINE_HEADER = 'crm-import-line';

/** Where an import's dead letters start, for --wait. */
export interface SentMarks {
  runId: string;
  deadLettersFrom: { partition: number; offset: string }[];
}

const BATCH_MESSAGES = 2000;

/**
 * Reads, maps, validates and (unless a dry run) sends, filling the report as it goes. A send is
 * awaited before the next one starts, so reading waits for the broker and memory holds two
 * batches whatever the file's size.
 */
export async function runImport(plan: ImportPlan, target: ImportTarget | undefined, report: ImportReport, onProgress?: () => void): Promise<SentMarks | undefined> {
  const started = Date.now();
  const reasons = new Map<string, SkipReason>();
  const runId = randomUUID();
  let marks: SentMarks | undefined;
  let producer: ReturnType<typeof createProducer> | undefined;
  if (target !== undefined) {
    const admin = target.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(target.deadLetterTopic).finally(() => admin.disconnect());
    marks = { runId, deadLettersFrom: ends.map((p) => ({ partition: p.partition, offset: p.high })) };
    producer = createProducer(target.kafka);
    await producer.connect();
  }
  let batch: Message[] = [];
  let inFlight: Promise<void> | undefined;
  const send = async (messages: Message[]) => {
    // A batch of large orders could pass the broker's request limit; split it by bytes.
    for (const chunk of chunkBySize(messages, DEFAULT_MAX_SEND_BYTES)) await producer!.send({ topic: target!.topic, acks: -1, messages: chunk });
    report.sent += messages.length;
  };
  // One send in flight while the next batch is mapped: reading overlaps the broker's round trip,
  // and memory holds two batches at most.
  const flush = async () => {
    const messages = batch;
    batch = [];
    await inFlight;
    if (messages.length === 0) return;
    inFlight = send(messages);
    // Its failure is thrown by the next await of it; until then it must not count as unhandled.
    inFlight.catch(() => undefined);
  };
  let lastProgress = 0;
  let units = 0;
  try {
    for await (const unit of groupRows(readRows(plan.file, plan.format), plan.groupBy)) {
      if ('unreadable' in unit) {
        report.rows++;
        recordSkip(report, reasons, { line: unit.line, rows: 1, reason: 'unreadable line', detail: unit.unreadable });
        continue;
      }
      const rows = unit.rows.length + unit.dropped;
      report.rows += rows;
      const mapped = plan.toEvent(unit);
      if (!mapped.ok) {
        recordSkip(report, reasons, { line: unit.line, rows, reason: mapped.reason, ...(mapped.detail === undefined ? {} : { detail: mapped.detail }) });
      } else {
        report.events++;
        if (producer !== undefined) {
          batch.push({
            key: mapped.key,
            value: JSON.stringify(mapped.event),
            headers: { 'content-type': CONTENT_TYPE_JSON, [RUN_HEADER]: runId, [LINE_HEADER]: String(unit.line) },
          });
          if (batch.length >= BATCH_MESSAGES) await flush();
        }
      }
      // Looking at the clock every 1 000 units keeps progress off the profile.
      if (onProgress !== undefined && ++units % 1000 === 0 && Date.now() - lastProgress >= 250) {
        lastProgress = Date.now();
        report.seconds = (lastProgress - started) / 1000;
        onProgress();
      }
    }
    await flush();
    await inFlight;
  } finally {
    await producer?.disconnect();
  }
  report.seconds = (Date.now() - started) / 1000;
  return marks;
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

/**
 * What ingest made of the events a run sent, once it committed past them: every dead letter
 * since the run began that carries the run's id (ingest sends dead letters before it commits,
 * so they are all there) is an event rejected, with its reason and line; the rest were accepted
 * (stored, or already there: a re-imported event is de-duplicated).
 */
export async function ingestOutcome(kafka: Kafka, target: ImportTarget, marks: SentMarks, report: ImportReport): Promise<NonNullable<ImportReport['ingest']>> {
  const outcome: NonNullable<ImportReport['ingest']> = { accepted: 0, deadLettered: 0, reasons: [] };
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(target.deadLetterTopic).finally(() => admin.disconnect());
  const from = new Map(marks.deadLettersFrom.map((p) => [p.partition, BigInt(p.offset)]));
  const remaining = new Map(ends.map((p) => [p.partition, BigInt(p.high)] as const).filter(([partition, high]) => high > (from.get(partition) ?? 0n)));
  if (remaining.size > 0) {
    const consumer = kafka.consumer({ groupId: `crm-import-outcome-${randomUUID()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [target.deadLetterTopic] });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const end = remaining.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              const h = message.headers ?? {};
              // A replayed letter that failed again is a second letter of one event: count the first only.
              if (h[RUN_HEADER]?.toString() === marks.runId && h['dlq.source.topic']?.toString() === target.topic && h['dlq.replayed_from'] === undefined) {
                outcome.deadLettered++;
                recordDeadLetter(outcome.reasons, h['dlq.reason.code']?.toString() ?? 'unknown', Number(h[LINE_HEADER]?.toString() ?? 0), h['dlq.reason.message']?.toString() ?? '');
              }
              if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
              if (remaining.size === 0) resolve();
            },
          })
          .then(() => {
            for (const [partition] of remaining) consumer.seek({ topic: target.deadLetterTopic, partition, offset: String(from.get(partition) ?? 0n) });
          }, reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  outcome.accepted = report.sent - outcome.deadLettered;
  for (const r of outcome.reasons) r.examples.sort((a, b) => a.line - b.line);
  return outcome;
}
