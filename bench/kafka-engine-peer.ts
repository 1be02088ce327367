/**
 * The peer of our ingest service: what a data engineer would build instead —
 * ClickHouse's own Kafka table engine plus materialized views, reading
 * `crm.clicks.v1` (or any topic of click events) straight into a table with the
 * structure of our raw `clicks` table, inside whatever ClickHouse `clickhouse`
 * points at (by default our embedded chDB host, where the engine's consumers
 * run as background threads of the host process).
 *
 * Why clicks: a click maps one to one onto a `clicks` row (plus an
 * `identity_links` row when it carries both ids); orders would also need the
 * configured FX rates (`CRM_FX_RATES`) baked into the SQL.
 *
 * What is built, all in `database` under a per-run prefix, in this order so
 * nothing is consumed before every view is attached:
 *
 *   <p>_clicks, <p>_identity_links     fresh copies (CREATE TABLE … AS) of `clicks` / `identity_links`
 *   <p>_rejects                        what the views did not accept, with a reason (the peer's dead letters)
 *   <p>_stream   (Null engine)         parsed + validated messages, fanned out by three views:
 *     <p>_clicks_mv, <p>_links_mv, <p>_rejects_mv
 *   <p>_kafka    (Kafka engine)        JSONEachRow, kafka_handle_error_mode = 'stream', group unique per run
 *   <p>_kafka_mv  Kafka → stream       created last: attaching it starts consumption (the clock starts here)
 *
 * Encodings: the Kafka engine takes one format per table; our topics mix JSON
 * and Avro single-object encoding (content-type header). Avro messages fail
 * the JSONEachRow parse, and with the 'stream' error mode they become rows with
 * `_error` set instead of stopping the consumer; the views route them to
 * `<p>_rejects` with reason `avro_not_supported` (from the content-type
 * header), so `expectedRows` must count the valid JSON events only. (Reading
 * Avro too would need a second topic, or `kafka_format = 'AvroConfluent'` with
 * a schema registry, which our single-object encoding is not.)
 *
 * Validation mirrors what the JSON schema checks and ingest enforces: a UUID
 * event_id, an ISO-8601 occurred_at no more than 5 minutes ahead, schema_version
 * 1, non-empty ids within their length limits, a known click type. Unknown JSON
 * fields are ignored (input_format_skip_unknown_fields).
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface KafkaEnginePeerOptions {
  /** Any @clickhouse/client; its default database does not matter, every name is qualified. */
  clickhouse: ClickHouseClient;
  /** Broker list as the ClickHouse host reaches it, e.g. "127.0.0.1:9092". */
  brokers: string;
  /** A topic of click events (JSON; Avro messages are counted as rejects). */
  topic: string;
  /** Where the peer's tables go; must hold `clicks` and `identity_links` (run the migrations first). */
  database: string;
  /** Valid JSON click events (distinct event_id) the target must reach. */
  expectedRows: number;
  say?: (line: string) => void;
  /** Overrides of the Kafka engine settings (see DEFAULT_KAFKA_SETTINGS); null leaves one at ClickHouse's default. */
  kafkaSettings?: Record<string, string | number | null>;
  /**
   * 'validated' (default): the pipeline described above, with rejects and identity links.
   * 'minimal': one view from a Kafka table with typed columns (date_time_input_format = best_effort)
   * straight into the target, dropping what fails to parse (`_error`); no rejects, no identity links,
   * and a JSON object without the fields becomes a row of defaults. For measuring what the checks cost.
   */
  mode?: 'validated' | 'minimal';
  /** Also write identity_links, as ingest does (default true; validated mode only). */
  identityLinks?: boolean;
  /** Give up when the target has not grown for this long (default 60 s). */
  stallSeconds?: number;
  /** Progress line interval (default 2 s). */
  progressSeconds?: number;
  /** Drop everything created, targets included (default false: the pipeline is dropped, the targets kept). */
  dropTargets?: boolean;
}

export interface KafkaEnginePeerResult {
  /** Distinct event_id in the target when it reached expectedRows. */
  rows: number;
  /** Rows inserted (count() before any merge): more than `rows` when a rebalance made the engine re-read messages. */
  insertedRows: number;
  /** From attaching the last view (consumption starts) to the last row's insert (max ingested_at). */
  seconds: number;
  rowsPerSecond: number;
  /** From attaching the last view to the first row's insert: group join, first poll, first flush. */
  firstRowSeconds: number;
  /** Rows per second between the first and the last insert; NaN when they are less than a second apart. */
  steadyRowsPerSecond: number;
  /** Messages not accepted, by reason (avro_not_supported, parse_error, invalid_<field>). */
  rejected: Record<string, number>;
  /** Messages the engine's consumers report having read, and their offset commits. */
  messagesRead: number;
  commits: number;
  /** The tables left behind (unless dropTargets). */
  tables: { target: string; identityLinks?: string; rejects: string };
  group: string;
  settings: Record<string, string | number>;
}

/**
 * What the settings change (measured on a shared 2-core machine, 100 000 –
 * 1 000 000 clicks): not the cost per message — every combination, and even
 * the 'minimal' pipeline without validation, spent 17 000 – 36 000 rows per
 * CPU-second of the host, nearly all of it in the engine's consumer threads —
 * but when rows land. Stock settings flush every stream_flush_interval_ms
 * (7.5 s) with blocks of up to max_insert_block_size (~1 M rows), so nothing
 * is visible for ~8 s and then everything at once; 64 Ki-row blocks and a
 * 500 ms flush interval give steady inserts and the first rows after ~1–5 s.
 * One consumer (with its own thread, kafka_thread_per_consumer = 1) is the
 * default: two or more could use both cores, but on this machine they were
 * not faster overall, joined the group more slowly (first rows after 2.5–8 s
 * instead of 1–5 s), and a rebalance while they joined sometimes made the
 * engine read up to a block twice (duplicates that the ReplacingMergeTree and
 * every reader absorb). On a server with free cores, try kafka_num_consumers
 * up to the topic's partition count.
 */
export const DEFAULT_KAFKA_SETTINGS: Readonly<Record<string, string | number>> = Object.freeze({
  kafka_format: 'JSONEachRow',
  kafka_handle_error_mode: 'stream',
  kafka_num_consumers: 1,
  kafka_thread_per_consumer: 1,
  kafka_max_block_size: 65536,
  kafka_poll_max_batch_size: 65536,
  kafka_poll_timeout_ms: 200,
  kafka_flush_interval_ms: 500,
});

const CLICK_TYPES = ['page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart', 'checkout_started', 'login'];

/** A ClickHouse error echoes the whole statement; keep the first line and a bounded length. */
function brief(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const first = text.split('\n')[0] ?? text;
  return first.length > 400 ? `${first.slice(0, 400)}…` : first;
}

function quote(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export async function measureKafkaEnginePeer(options: KafkaEnginePeerOptions): Promise<KafkaEnginePeerResult> {
  const { clickhouse, brokers, topic, database, expectedRows } = options;
  const say = options.say ?? (() => {});
  const mode = options.mode ?? 'validated';
  const withLinks = mode === 'validated' && (options.identityLinks ?? true);
  const stallMs = (options.stallSeconds ?? 60) * 1000;
  const progressMs = (options.progressSeconds ?? 2) * 1000;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`database must be a plain identifier, got ${database}`);

  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
  const p = `${database}.peer_${run}`;
  const group = `crm-kafka-engine-peer-${run}`;
  const t = {
    clicks: `${p}_clicks`,
    links: `${p}_identity_links`,
    rejects: `${p}_rejects`,
    stream: `${p}_stream`,
    kafka: `${p}_kafka`,
    clicksMv: `${p}_clicks_mv`,
    linksMv: `${p}_links_mv`,
    rejectsMv: `${p}_rejects_mv`,
    kafkaMv: `${p}_kafka_mv`,
  };
  const settings: Record<string, string | number> = {};
  for (const [name, value] of Object.entries({ ...DEFAULT_KAFKA_SETTINGS, ...options.kafkaSettings })) {
    if (value !== null) settings[name] = value;
  }
  Object.assign(settings, { kafka_broker_list: brokers, kafka_topic_list: topic, kafka_group_name: group });
  if (mode === 'validated' && settings.kafka_handle_error_mode !== 'stream') {
    throw new Error(`kafka-engine peer: the validated pipeline needs kafka_handle_error_mode = 'stream' (it routes _error/_raw_message to the rejects); use mode 'minimal' to try others`);
  }

  const exec = async (what: string, query: string) => {
    try {
      await clickhouse.command({ query });
    } catch (error) {
      throw new Error(`kafka-engine peer: ${what} failed: ${brief(error)}`, { cause: error });
    }
  };
  const rows = async <T>(query: string): Promise<T[]> => {
    try {
      const result = await clickhouse.query({ query, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (error) {
      throw new Error(`kafka-engine peer: query failed: ${brief(error)}`, { cause: error });
    }
  };

  // Is the engine there at all? (chDB builds without librdkafka would lack it.)
  const engines = await rows<{ name: string }>(`SELECT name FROM system.table_engines WHERE name = 'Kafka'`);
  if (engines.length === 0) {
    const [v] = await rows<{ v: string }>('SELECT version() AS v');
    throw new Error(`kafka-engine peer: this ClickHouse (${v?.v}) has no Kafka table engine in system.table_engines`);
  }
  for (const source of withLinks ? ['clicks', 'identity_links'] : ['clicks']) {
    const [found] = await rows<{ n: number }>(`SELECT count() AS n FROM system.tables WHERE database = ${quote(database)} AND name = ${quote(source)}`);
    if (!found || Number(found.n) === 0) throw new Error(`kafka-engine peer: ${database}.${source} does not exist; apply the migrations first (migrate from @crm/clickhouse)`);
  }

  const created: string[] = [];
  const create = async (name: string, what: string, query: string) => {
    await exec(`creating ${what} ${name}`, query);
    created.push(name);
  };

  // What the views accept; everything else goes to <p>_rejects with the first failed rule.
  const contentType = `_headers.value[indexOf(_headers.name, 'content-type')]`;
  const ts = `parseDateTime64BestEffortOrNull(occurred_at, 3, 'UTC')`;
  const optional = (c: string, max: number) => `(${c} IS NULL OR length(${c}) <= ${max})`;
  const rules: [string, string][] = [
    ['invalid_event_id', `toUUIDOrNull(event_id) IS NOT NULL`],
    ['invalid_occurred_at', `${ts} IS NOT NULL AND ${ts} <= now64(3) + INTERVAL 300 SECOND`],
    ['invalid_schema_version', `schema_version = '1'`],
    ['invalid_anonymous_id', `length(anonymous_id) BETWEEN 1 AND 256`],
    ['invalid_customer_id', `(customer_id IS NULL OR length(customer_id) BETWEEN 1 AND 256)`],
    ['invalid_session_id', `length(session_id) BETWEEN 1 AND 256`],
    ['invalid_type', `type IN (${CLICK_TYPES.map(quote).join(', ')})`],
    [
      'invalid_length',
      [optional('url', 4096), optional('sku', 256), optional('category', 256), optional('query', 1024), optional('referrer', 4096), optional('utm_source', 256), optional('utm_medium', 256), optional('utm_campaign', 256)].join(' AND '),
    ],
  ];
  const reason = `multiIf(_error != '', if(${contentType} = 'application/avro', 'avro_not_supported', 'parse_error'), ${rules.map(([code, ok]) => `NOT (${ok}), '${code}'`).join(', ')}, '')`;

  const engineSettings = (extra: Record<string, string | number> = {}) =>
    Object.entries({ ...settings, ...extra }).map(([k, v]) => `${k} = ${quote(v)}`).join(', ');
  let startMs = 0;
  const startClock = async () => {
    const [clock] = await rows<{ now: string }>(`SELECT toUnixTimestamp64Milli(now64(3)) AS now`);
    startMs = Number(clock!.now);
  };

  try {
    // 1. Targets, same structure (and engine, sort key) as the raw tables ingest writes.
    await create(t.clicks, 'target', `CREATE TABLE ${t.clicks} AS ${database}.clicks`);
    if (withLinks) await create(t.links, 'target', `CREATE TABLE ${t.links} AS ${database}.identity_links`);
    await create(
      t.rejects,
      'rejects table',
      `CREATE TABLE ${t.rejects} (topic String, partition UInt32, offset UInt64, content_type String, reason LowCardinality(String), error String, raw_message String, rejected_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY (topic, partition, offset)`,
    );

    if (mode === 'minimal') {
      // The least a data engineer could build: typed columns parsed by the format, one view, parse errors dropped.
      await create(
        t.kafka,
        'Kafka engine table',
        `CREATE TABLE ${t.kafka} (
          event_id UUID, occurred_at DateTime64(3, 'UTC'), schema_version UInt16, anonymous_id String, customer_id Nullable(String),
          session_id String, type LowCardinality(String), url Nullable(String), sku Nullable(String), category Nullable(String),
          query Nullable(String), referrer Nullable(String), utm_source Nullable(String), utm_medium Nullable(String), utm_campaign Nullable(String)
        ) ENGINE = Kafka SETTINGS ${engineSettings({ date_time_input_format: 'best_effort' })}`,
      );
      await startClock();
      await create(
        t.clicksMv,
        'view',
        `CREATE MATERIALIZED VIEW ${t.clicksMv} TO ${t.clicks} AS
         SELECT event_id, occurred_at, schema_version, anonymous_id, customer_id, session_id, type, url, sku, category, query, referrer,
                utm_source, utm_medium, utm_campaign, _partition AS source_partition, _offset AS source_offset
         FROM ${t.kafka}${settings.kafka_handle_error_mode === 'stream' ? ` WHERE _error = ''` : ''}`,
      );
    } else {
      // 2. The fan-out point: a Null table, so every view is attached before the first message is read.
      await create(
        t.stream,
        'stream table',
        `CREATE TABLE ${t.stream} (
          event_id Nullable(UUID), occurred_at Nullable(DateTime64(3, 'UTC')), anonymous_id String, customer_id Nullable(String),
          session_id String, type String, url Nullable(String), sku Nullable(String), category Nullable(String), query Nullable(String),
          referrer Nullable(String), utm_source Nullable(String), utm_medium Nullable(String), utm_campaign Nullable(String),
          source_topic String, source_partition UInt32, source_offset UInt64, content_type String, reject_reason LowCardinality(String),
          error String, raw_message String
        ) ENGINE = Null`,
      );
      await create(
        t.clicksMv,
        'view',
        `CREATE MATERIALIZED VIEW ${t.clicksMv} TO ${t.clicks} AS
         SELECT assumeNotNull(event_id) AS event_id, assumeNotNull(occurred_at) AS occurred_at, toUInt16(1) AS schema_version,
                anonymous_id, customer_id, session_id, type, url, sku, category, query, referrer, utm_source, utm_medium, utm_campaign,
                source_partition, source_offset
         FROM ${t.stream} WHERE reject_reason = ''`,
      );
      if (withLinks) {
        await create(
          t.linksMv,
          'view',
          // The subquery keeps the filter on the column, not on the assumeNotNull alias of the same name.
          `CREATE MATERIALIZED VIEW ${t.linksMv} TO ${t.links} AS
           SELECT anonymous_id, assumeNotNull(customer_id) AS customer_id, assumeNotNull(occurred_at) AS linked_at, assumeNotNull(event_id) AS event_id
           FROM (SELECT * FROM ${t.stream} WHERE reject_reason = '' AND customer_id IS NOT NULL)`,
        );
      }
      await create(
        t.rejectsMv,
        'view',
        `CREATE MATERIALIZED VIEW ${t.rejectsMv} TO ${t.rejects} AS
         SELECT source_topic AS topic, source_partition AS partition, source_offset AS offset, content_type, reject_reason AS reason, error,
                raw_message
         FROM ${t.stream} WHERE reject_reason != ''`,
      );

      // 3. The consumer. Every column is read as text, so a wrong type is a validation reject, not a parse error.
      await create(
        t.kafka,
        'Kafka engine table',
        `CREATE TABLE ${t.kafka} (
          event_id String, occurred_at String, schema_version String, anonymous_id String, customer_id Nullable(String),
          session_id String, type String, url Nullable(String), sku Nullable(String), category Nullable(String), query Nullable(String),
          referrer Nullable(String), utm_source Nullable(String), utm_medium Nullable(String), utm_campaign Nullable(String)
        ) ENGINE = Kafka SETTINGS ${engineSettings()}`,
      );
      await startClock();
      // Attaching this view starts consumption. The inner query sees the raw text columns; the outer one
      // converts them (an alias named like a column would otherwise shadow it in the rules).
      await create(
        t.kafkaMv,
        'view',
        `CREATE MATERIALIZED VIEW ${t.kafkaMv} TO ${t.stream} AS
         SELECT toUUIDOrNull(event_id) AS event_id, ${ts} AS occurred_at, anonymous_id, customer_id, session_id, type, url, sku, category,
                query, referrer, utm_source, utm_medium, utm_campaign, source_topic, source_partition, source_offset, content_type,
                reject_reason, error, raw_message
         FROM (
           SELECT *, _topic AS source_topic, _partition AS source_partition, _offset AS source_offset, ${contentType} AS content_type,
                  ${reason} AS reject_reason, _error AS error, if(_error != '', _raw_message, '') AS raw_message
           FROM ${t.kafka}
         )`,
      );
    }
    say(`peer: consuming ${topic} with the Kafka engine (group ${group}) into ${t.clicks}`);

    // 4. Wait for the target.
    let count = 0;
    let lastGrowth = Date.now();
    let lastProgress = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(progressMs, 500)));
      const [now] = await rows<{ n: string }>(`SELECT uniqExact(event_id) AS n FROM ${t.clicks}`);
      const n = Number(now!.n);
      if (n > count) {
        count = n;
        lastGrowth = Date.now();
      }
      const done = count >= expectedRows;
      if (done || Date.now() - lastGrowth > stallMs || Date.now() - lastProgress >= progressMs) {
        lastProgress = Date.now();
        const consumers = await consumerState(rows, database, t.kafka.slice(database.length + 1));
        const [rej] = await rows<{ n: string }>(`SELECT count() AS n FROM ${t.rejects}`);
        const elapsed = (Date.now() - startMs) / 1000;
        say(
          `peer: ${count.toLocaleString()}/${expectedRows.toLocaleString()} rows after ${elapsed.toFixed(1)} s, ${Number(rej!.n).toLocaleString()} rejected, ` +
            `consumers read ${consumers.read.toLocaleString()} messages, ${consumers.commits} commits` +
            (consumers.lastException ? `, last exception: ${consumers.lastException}` : ''),
        );
        if (done) break;
        if (Date.now() - lastGrowth > stallMs) {
          throw new Error(
            `kafka-engine peer: no new rows in ${t.clicks} for ${stallMs / 1000} s (${count}/${expectedRows}); consumers: ${consumers.count}, ` +
              `read ${consumers.read}, last exception: ${consumers.lastException ?? 'none'}`,
          );
        }
      }
    }

    const [span] = await rows<{ first: string; last: string; n: string; inserted: string }>(
      `SELECT toUnixTimestamp64Milli(min(ingested_at)) AS first, toUnixTimestamp64Milli(max(ingested_at)) AS last, uniqExact(event_id) AS n, count() AS inserted FROM ${t.clicks}`,
    );
    const firstMs = Number(span!.first);
    const lastMs = Number(span!.last);
    const rowsIn = Number(span!.n);
    const seconds = (lastMs - startMs) / 1000;
    const steady = (lastMs - firstMs) / 1000;
    const rejected: Record<string, number> = {};
    for (const r of await rows<{ reason: string; n: string }>(`SELECT reason, count() AS n FROM ${t.rejects} GROUP BY reason ORDER BY reason`)) {
      rejected[r.reason] = Number(r.n);
    }
    const consumers = await consumerState(rows, database, t.kafka.slice(database.length + 1));
    return {
      rows: rowsIn,
      insertedRows: Number(span!.inserted),
      seconds,
      rowsPerSecond: rowsIn / seconds,
      firstRowSeconds: (firstMs - startMs) / 1000,
      // Meaningless when the engine had read everything before its first flush (all rows within a second).
      steadyRowsPerSecond: steady >= 1 ? rowsIn / steady : Number.NaN,
      rejected,
      messagesRead: consumers.read,
      commits: consumers.commits,
      tables: { target: t.clicks, ...(withLinks ? { identityLinks: t.links } : {}), rejects: t.rejects },
      group,
      settings,
    };
  } finally {
    // Consumers stop with their table; the views go first so nothing is half-delivered.
    const keep = options.dropTargets ? new Set<string>() : new Set([t.clicks, t.links, t.rejects]);
    for (const name of [...created].reverse()) {
      if (keep.has(name)) continue;
      await clickhouse.command({ query: `DROP TABLE IF EXISTS ${name} SYNC` }).catch((error: unknown) => say(`peer: could not drop ${name}: ${brief(error)}`));
    }
  }
}

async function consumerState(
  rows: <T>(query: string) => Promise<T[]>,
  database: string,
  table: string,
): Promise<{ count: number; read: number; commits: number; lastException: string | undefined }> {
  const list = await rows<{ read: string; commits: string; exceptions: string[] }>(
    `SELECT num_messages_read AS read, num_commits AS commits, exceptions.text AS exceptions FROM system.kafka_consumers WHERE database = ${quote(database)} AND table = ${quote(table)}`,
  );
  const last = list.flatMap((c) => c.exceptions).at(-1);
  return {
    count: list.length,
    read: list.reduce((n, c) => n + Number(c.read), 0),
    commits: list.reduce((n, c) => n + Number(c.commits), 0),
    lastException: last === undefined ? undefined : brief(last),
  };
}
