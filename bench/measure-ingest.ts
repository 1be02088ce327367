/**
 * Ingest against its limits, on one topic set holding the same load:
 * - the load: `generateLoad` (heavy-tailed customers, daily and weekly
 *   seasonality, all four kinds, JSON and Avro, ~0.5 % malformed), produced first;
 * - ingest end to end: an ingest process from start (its database migrated
 *   before) until it has committed every message — it commits only after the
 *   rows are written, so that is when they are queryable — then the rows are
 *   checked exactly;
 * - the bare consumer: the same topics read by a kafkajs consumer that does
 *   nothing with the messages (the Kafka side of the limit);
 * - direct insert: the same rows inserted straight into ClickHouse in
 *   ingest's batch size (the ClickHouse side of the limit);
 * - chDB in-process: the same rows, in the same format, handed to the embedded
 *   engine in this process, without HTTP or our host (what the host itself costs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createProducer, groupId, type TopicNames } from '@crm/kafka';
import { createClickHouse, loadMigrations, migrate, type ClickHouseClient } from '@crm/clickhouse';
import { decodeMessage, DEFAULT_PARTITIONS_CONCURRENTLY, encodeRows, insertBody, insertEncodedRows, insertStatement, STREAMS, type Row } from '@crm/ingest';
import { REPO_ROOT } from '@crm/runtime';
import { ChdbEngine } from '../services/clickhouse-host/src/chdb-engine.js';
import { generateLoad, type LoadOptions } from '@crm/sample-data';
import { spawnService } from '../test/support/processes.js';
import { committedMessages } from '../test/support/kafka.js';
import { cpuSeconds, peakRssMiB } from './ephemeral-stack.js';

export const INPUT_KINDS = ['orders', 'clicks', 'tickets', 'surveys'] as const;
type Kind = (typeof INPUT_KINDS)[number];

export interface ProducedLoad {
  messages: number;
  malformed: number;
  redeliveries: number;
  valid: Record<Kind, Set<string>>;
  seconds: number;
  options: LoadOptions;
}

/** Produces the load (only the `kinds` given, if any) and records what is valid. */
export async function produceLoad(
  kafka: Kafka,
  topics: TopicNames,
  options: LoadOptions,
  say: (line: string) => void,
  kinds: readonly Kind[] = INPUT_KINDS,
): Promise<ProducedLoad> {
  const producer = createProducer(kafka);
  await producer.connect();
  const valid = { orders: new Set<string>(), clicks: new Set<string>(), tickets: new Set<string>(), surveys: new Set<string>() };
  let messages = 0;
  let malformed = 0;
  let redeliveries = 0;
  const started = Date.now();
  try {
    for (const chunk of generateLoad(options)) {
      const byTopic = new Map<Kind, { key: string; value: Buffer; headers: Record<string, string> }[]>();
      for (const m of chunk.messages) {
        if (!kinds.includes(m.topic)) continue;
        if (m.valid) {
          valid[m.topic].add(m.eventId);
          if (m.redelivery) redeliveries++;
        } else malformed++;
        const list = byTopic.get(m.topic) ?? [];
        list.push({ key: m.key, value: m.value, headers: m.headers });
        byTopic.set(m.topic, list);
      }
      // Slices keep each partition's record batch under the broker's 1 MB limit, even when one
      // heavy customer's events (one key, one partition) crowd a chunk.
      for (const [kind, msgs] of byTopic) {
        for (let i = 0; i < msgs.length; i += 1000) await producer.send({ acks: -1, topic: topics[kind], messages: msgs.slice(i, i + 1000) });
      }
      messages += [...byTopic.values()].reduce((n, msgs) => n + msgs.length, 0);
      if (chunk.index % 10 === 9) say(`  produced ${messages.toLocaleString()} messages`);
    }
  } finally {
    await producer.disconnect();
  }
  return { messages, malformed, redeliveries, valid, seconds: (Date.now() - started) / 1000, options };
}

export interface IngestMeasurement {
  seconds: number;
  messagesPerSecond: number;
  peakRssMiB: number;
  /**
   * CPU microseconds per message, of the ingest process and (when its pid was given) of the
   * ClickHouse host: what a busy machine cannot distort as it does the rate.
   */
  cpuUsPerMessage: { ingest: number; host?: number };
  /** Unique event ids per table, against the valid ones produced. */
  exact: boolean;
  counts: Record<Kind, number>;
}

/** A fresh database on the bench's host, migrated as `crm init` does. */
async function migrateDatabase(clickhouseUrl: string, database: string): Promise<void> {
  const admin = createClickHouse({ CLICKHOUSE_URL: clickhouseUrl, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database }, { database: false });
  await migrate(admin, database).finally(() => admin.close());
}

export async function measureIngest(
  kafka: Kafka,
  env: { brokers: string; clickhouseUrl: string; namespace: string; database: string; group?: string; hostPid?: number },
  topics: TopicNames,
  load: ProducedLoad,
  say: (line: string) => void,
  /** Another checkout whose ingest to run instead (a baseline measured in the same run). */
  checkout = REPO_ROOT,
): Promise<IngestMeasurement> {
  const inputTopics = INPUT_KINDS.map((k) => topics[k]);
  // The database is created before the clock starts, as for the direct insert and the peer: a
  // new installation's migrations are set-up, not ingesting (ingest then finds them applied).
  await migrateDatabase(env.clickhouseUrl, env.database);
  const started = Date.now();
  const ingest = spawnService(join(relative(REPO_ROOT, checkout), 'services/ingest/src/main.ts'), {
    KAFKA_BROKERS: env.brokers,
    CLICKHOUSE_URL: env.clickhouseUrl,
    CLICKHOUSE_DATABASE: env.database,
    CRM_TOPIC_NAMESPACE: env.namespace,
    INGEST_HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
    INGEST_GROUP_ID: env.group ?? 'crm-ingest',
    // e.g. BENCH_INGEST_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the ingest process.
  }, (process.env.BENCH_INGEST_NODE_ARGS ?? '').split(' ').filter(Boolean));
  let peak = 0;
  let lastSaid = 0;
  let ingestCpu = 0;
  const hostCpuBefore = env.hostPid === undefined ? 0 : cpuSeconds(env.hostPid);
  let hostCpu: number | undefined;
  // Ends when the last message is committed (its rows queryable), not when the process has exited.
  let seconds = Number.NaN;
  try {
    for (let committed = 0; committed < load.messages; ) {
      // A tenth of a second: the end of a 5-second run is overstated by 0.1 s at most (the peer's
      // end is its last row's insert time, exact).
      await new Promise((r) => setTimeout(r, 100));
      if (ingest.child.exitCode !== null) throw new Error(`ingest exited with ${ingest.child.exitCode}`);
      peak = Math.max(peak, peakRssMiB(ingest.child.pid!));
      ingestCpu = cpuSeconds(ingest.child.pid!);
      committed = await committedMessages(kafka, groupId(env.namespace, env.group ?? 'crm-ingest'), inputTopics);
      seconds = (Date.now() - started) / 1000;
      if (committed < load.messages && Date.now() - lastSaid < 1000) continue;
      lastSaid = Date.now();
      say(`  ingested ${committed.toLocaleString()}/${load.messages.toLocaleString()} (${Math.round(committed / seconds).toLocaleString()} messages/s)`);
    }
    hostCpu = env.hostPid === undefined ? undefined : cpuSeconds(env.hostPid) - hostCpuBefore;
  } finally {
    await ingest.kill('SIGTERM');
  }
  const clickhouse = createClickHouse({ CLICKHOUSE_URL: env.clickhouseUrl, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: env.database });
  const counts = {} as Record<Kind, number>;
  for (const kind of INPUT_KINDS) counts[kind] = await scalar(clickhouse, `SELECT uniqExact(event_id) AS n FROM ${kind}`);
  await clickhouse.close();
  return {
    seconds,
    messagesPerSecond: load.messages / seconds,
    peakRssMiB: peak,
    cpuUsPerMessage: { ingest: (1e6 * ingestCpu) / load.messages, ...(hostCpu === undefined ? {} : { host: (1e6 * hostCpu) / load.messages }) },
    exact: INPUT_KINDS.every((k) => counts[k] === load.valid[k].size),
    counts,
  };
}

/** A consumer that reads every message of the input topics and does nothing with them. */
export async function measureBareConsumer(kafka: Kafka, topics: TopicNames, messages: number): Promise<{ seconds: number; messagesPerSecond: number }> {
  const consumer = kafka.consumer({ groupId: `bench-bare-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: INPUT_KINDS.map((k) => topics[k]), fromBeginning: true });
  let seen = 0;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: DEFAULT_PARTITIONS_CONCURRENTLY,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= messages) resolve();
      },
    });
  });
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  return { seconds, messagesPerSecond: messages / seconds };
}

/**
 * Whoever reads a freshly produced topic first is about 10 % slower: the same ingest twice in a
 * row took 6.8 s then 6.2 s, and 6.9 s then 6.1 s with the order swapped. Ours went first, so the
 * peer always had the warm topic. One untimed read by the bare consumer gives both a warm topic.
 */
export async function readOnceBeforeTiming(kafka: Kafka, topics: TopicNames, load: ProducedLoad): Promise<void> {
  await measureBareConsumer(kafka, topics, load.messages);
}

type InsertMeasurement = { seconds: number; rowsPerSecond: number; messagesPerSecond: number; rows: number };

/**
 * The load's valid rows, generated again from its seed (so nothing has to be held in memory),
 * given to `insert` in batches of `batchSize` per table; only the insert calls are timed.
 */
async function insertInBatches(
  load: ProducedLoad,
  batchSize: number,
  insert: (table: string, rows: Row[]) => Promise<void>,
  say: (line: string) => void,
  where: string,
): Promise<InsertMeasurement> {
  const streams = new Map(STREAMS.map((s) => [s.topic, s]));
  const context = { now: Date.now(), maxFutureSkewMs: 300_000, maxMessageBytes: 1_048_576, reportingCurrency: 'USD', fxRates: { USD: 1 } };
  const pending = new Map<string, Row[]>();
  let rows = 0;
  let insertMs = 0;
  const flush = async (table: string) => {
    const values = pending.get(table) ?? [];
    if (values.length === 0) return;
    pending.set(table, []);
    const t = performance.now();
    await insert(table, values);
    insertMs += performance.now() - t;
    rows += values.length;
  };
  let offset = 0;
  for (const chunk of generateLoad(load.options)) {
    for (const m of chunk.messages) {
      const mapped = decodeMessage(streams.get(m.topic)!, { value: m.value, headers: m.headers, partition: 0, offset: String(offset++) }, context);
      if (!mapped.ok) continue;
      for (const { table, row } of mapped.rows) {
        const list = pending.get(table) ?? [];
        list.push(row);
        pending.set(table, list);
        if (list.length >= batchSize) await flush(table);
      }
    }
    if (chunk.index % 20 === 19) say(`  inserted ${rows.toLocaleString()} rows ${where}`);
  }
  for (const table of [...pending.keys()]) await flush(table);
  const seconds = insertMs / 1000;
  return { seconds, rowsPerSecond: rows / seconds, messagesPerSecond: load.messages / seconds, rows };
}

/** The same rows straight into ClickHouse (a fresh database) through the client and our host, in ingest's format. */
export async function measureDirectInsert(clickhouseUrl: string, load: ProducedLoad, batchSize: number, say: (line: string) => void): Promise<InsertMeasurement> {
  const database = `bench_direct_${Date.now()}`;
  await migrateDatabase(clickhouseUrl, database);
  const clickhouse = createClickHouse({ CLICKHOUSE_URL: clickhouseUrl, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database });
  try {
    return await insertInBatches(load, batchSize, (table, rows) => insertEncodedRows(clickhouse, table, encodeRows(rows)), say, 'directly');
  } finally {
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await clickhouse.close();
  }
}

/**
 * The same rows, batches and format as the direct insert, handed to chDB inside this process
 * (the native insert our host's engine also uses, a Buffer per insert): no HTTP, no spool file,
 * no host. Serialising each batch is timed, as the client's is in the direct insert.
 */
export async function measureChdbInProcess(load: ProducedLoad, batchSize: number, say: (line: string) => void): Promise<InsertMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-chdb-'));
  const engine = ChdbEngine.open(dir);
  const connection = engine.connect();
  const native = engine.native;
  try {
    await native.QueryAsyncConnection(connection, 'CREATE DATABASE IF NOT EXISTS crm', 'TabSeparated');
    await native.QueryAsyncConnection(connection, 'USE crm', 'TabSeparated');
    // As our client sets it on every request.
    await native.QueryAsyncConnection(connection, "SET date_time_input_format = 'best_effort'", 'TabSeparated');
    for (const migration of loadMigrations()) for (const statement of migration.statements) await native.QueryAsyncConnection(connection, statement.replaceAll('{database}', 'crm'), 'TabSeparated');
    return await insertInBatches(
      load,
      batchSize,
      async (table, rows) => {
        const encoded = encodeRows(rows);
        await native.InsertRawAsyncConnection(connection, insertStatement(table, encoded), insertBody(encoded), false);
      },
      say,
      'into chDB in-process',
    );
  } finally {
    engine.disconnect(connection);
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function scalar(clickhouse: ClickHouseClient, query: string): Promise<number> {
  return Number((await (await clickhouse.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
}
