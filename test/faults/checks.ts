import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { ClickHouseClient } from '@crm/clickhouse';

/** A few examples of a difference, enough to start looking, short enough to read. */
const sample = <T>(items: Iterable<T>, n = 5): T[] => {
  const out: T[] = [];
  for (const item of items) {
    if (out.length === n) break;
    out.push(item);
  }
  return out;
};

const header = (m: KafkaMessage, name: string): string | undefined => m.headers?.[name]?.toString();

export const RAW_TABLES = ['orders', 'clicks', 'tickets', 'surveys', 'identity_links'] as const;
export type RawTable = (typeof RAW_TABLES)[number];

export interface RawCheck {
  table: RawTable;
  /** Distinct valid event_ids produced for the table. */
  expected: number;
  /** uniqExact(event_id), the de-duplicated count every reader relies on. */
  unique: number;
  /** count(): with re-deliveries, replays and crash replays, more than unique until merges collapse them. */
  rows: number;
  missing: number;
  extra: number;
  samples: string[];
}

/** The set of event_ids of each raw table against the valid events produced for it. */
export async function compareRawTables(clickhouse: ClickHouseClient, expected: Readonly<Record<RawTable, ReadonlySet<string>>>): Promise<RawCheck[]> {
  const checks: RawCheck[] = [];
  for (const table of RAW_TABLES) {
    const counts = await (await clickhouse.query({ query: `SELECT count() AS rows, uniqExact(event_id) AS unique FROM ${table}`, format: 'JSONEachRow' })).json<{
      rows: number | string;
      unique: number | string;
    }>();
    const text = await (await clickhouse.query({ query: `SELECT toString(event_id) FROM ${table} GROUP BY event_id`, format: 'TabSeparated' })).text();
    const found = new Set(text.split('\n').filter((l) => l !== ''));
    const want = expected[table];
    const missing = [...want].filter((id) => !found.has(id));
    const extra = [...found].filter((id) => !want.has(id));
    checks.push({
      table,
      expected: want.size,
      unique: Number(counts[0]!.unique),
      rows: Number(counts[0]!.rows),
      missing: missing.length,
      extra: extra.length,
      samples: [...sample(missing).map((id) => `missing ${id}`), ...sample(extra).map((id) => `extra ${id}`)],
    });
  }
  return checks;
}

/** A malformed message as the dead-letter topic must show it: source stream, original bytes, reason. */
export const deadLetterKey = (input: string, value: Buffer | null, reason: string): string =>
  `${input} ${createHash('sha1').update(value ?? Buffer.alloc(0)).digest('hex')} ${reason}`;

export interface DeadLetterCheck {
  /** Distinct malformed messages produced (by stream, bytes and reason). */
  expected: number;
  /** Dead letters on the topic (with repeats from replays and crash replays). */
  messages: number;
  missing: number;
  /** Dead letters whose bytes were produced as malformed, but with another reason code. */
  wrongReason: number;
  /** Dead letters that match no malformed message (a valid event refused, or a foreign one). */
  unexpected: number;
  samples: string[];
}

export function checkDeadLetters(
  messages: readonly KafkaMessage[],
  expected: ReadonlyMap<string, { input: string; reason: string; fault: string }>,
  inputOfTopic: ReadonlyMap<string, string>,
): DeadLetterCheck {
  const expectedBytes = new Set([...expected.keys()].map((k) => k.split(' ').slice(0, 2).join(' ')));
  const seen = new Set<string>();
  let wrongReason = 0;
  let unexpected = 0;
  const samples: string[] = [];
  for (const m of messages) {
    const source = header(m, 'dlq.source.topic') ?? '';
    const input = inputOfTopic.get(source) ?? `?${source}`;
    const reason = header(m, 'dlq.reason.code') ?? '';
    const key = deadLetterKey(input, m.value, reason);
    if (expected.has(key)) {
      seen.add(key);
      continue;
    }
    const bytes = key.split(' ').slice(0, 2).join(' ');
    if (expectedBytes.has(bytes)) {
      wrongReason++;
      if (samples.length < 5) samples.push(`wrong reason ${reason} for ${bytes} (${header(m, 'dlq.reason.message') ?? ''})`);
    } else {
      unexpected++;
      if (samples.length < 5) samples.push(`unexpected dead letter from ${source} reason ${reason}: ${(header(m, 'dlq.reason.message') ?? '').slice(0, 160)}`);
    }
  }
  const missing = [...expected.keys()].filter((k) => !seen.has(k));
  for (const k of sample(missing)) samples.push(`missing ${k} (${expected.get(k)!.fault})`);
  return { expected: expected.size, messages: messages.length, missing: missing.length, wrongReason, unexpected, samples };
}

export interface OutboxRow {
  id: string;
  customer_id: string;
  segment_type: string;
  to: string;
  changed_at: string;
  committed: number;
}

/**
 * The outbox rows the publisher is meant to send (every row but a baseline's unsent at-risk
 * entries), split into those covered by a commit mark and those no mark covers (never visible to
 * the publisher).
 */
export async function readOutbox(clickhouse: ClickHouseClient): Promise<{ committed: OutboxRow[]; uncommitted: OutboxRow[] }> {
  const raw = await (await clickhouse.query({
    // Text aliases differ from the column names: an alias would shadow the column in WHERE.
    query: `SELECT toString(event_id) AS id, customer_id, segment_type, \`to\`, toString(changed_at) AS changed_at_text,
                   changed_at IN (SELECT changed_at FROM outbox_commits) AS committed
            FROM segment_changes FINAL
            WHERE publish`,
    format: 'JSONEachRow',
  })).json<Omit<OutboxRow, 'changed_at'> & { changed_at_text: string }>();
  const rows: OutboxRow[] = raw.map(({ changed_at_text, ...r }) => ({ ...r, changed_at: changed_at_text }));
  return { committed: rows.filter((r) => Number(r.committed) === 1), uncommitted: rows.filter((r) => Number(r.committed) !== 1) };
}

export interface PublishedCheck {
  /** Committed outbox rows meant for each topic. */
  expected: { segmentChanges: number; atRisk: number };
  /** Messages on each topic (a crash between send and cursor resends, so ≥ distinct ids). */
  messages: { segmentChanges: number; atRisk: number };
  missing: number;
  /** Ids on a topic that no committed outbox row of that topic has. */
  unexpected: number;
  /** Ids published with more than one distinct payload. */
  conflicting: number;
  /** Messages not keyed by their customer. */
  wrongKey: number;
  /** Outbox rows above the newest commit mark when scoring stopped (not visible to the publisher). */
  uncommitted: number;
  samples: string[];
}

export function checkPublished(outbox: { committed: OutboxRow[]; uncommitted: OutboxRow[] }, segmentChanges: readonly KafkaMessage[], atRisk: readonly KafkaMessage[]): PublishedCheck {
  const samples: string[] = [];
  let missing = 0;
  let unexpected = 0;
  let conflicting = 0;
  let wrongKey = 0;
  const isRisk = (r: OutboxRow) => r.segment_type === 'risk';
  const check = (topic: string, rows: OutboxRow[], messages: readonly KafkaMessage[]) => {
    const want = new Map(rows.map((r) => [r.id, r]));
    const payloads = new Map<string, Set<string>>();
    for (const m of messages) {
      const id = header(m, 'event-id') ?? '(no event-id)';
      payloads.set(id, (payloads.get(id) ?? new Set()).add(createHash('sha1').update(m.value ?? Buffer.alloc(0)).digest('hex')));
      const row = want.get(id);
      if (row && m.key?.toString() !== row.customer_id) {
        wrongKey++;
        if (samples.length < 8) samples.push(`${topic}: ${id} keyed ${m.key?.toString()} instead of its customer`);
      }
    }
    for (const [id, row] of want) {
      if (!payloads.has(id)) {
        missing++;
        if (samples.length < 8) samples.push(`${topic}: missing ${id} (${row.segment_type} → ${row.to}, changed_at ${row.changed_at})`);
      }
    }
    for (const [id, set] of payloads) {
      if (!want.has(id)) {
        unexpected++;
        if (samples.length < 8) samples.push(`${topic}: unexpected ${id}`);
      }
      if (set.size > 1) {
        conflicting++;
        if (samples.length < 8) samples.push(`${topic}: ${id} published with ${set.size} different payloads`);
      }
    }
  };
  // Every published row goes to crm.segment-changes.v1 (risk decisions too); entries into risk also to crm.customer-at-risk.v1.
  check('segment-changes', outbox.committed, segmentChanges);
  check('customer-at-risk', outbox.committed.filter((r) => isRisk(r) && r.to === 'at_risk'), atRisk);
  for (const r of sample(outbox.uncommitted, 3)) samples.push(`uncommitted outbox row ${r.id} (${r.segment_type} → ${r.to}, changed_at ${r.changed_at})`);
  return {
    expected: { segmentChanges: outbox.committed.length, atRisk: outbox.committed.filter((r) => isRisk(r) && r.to === 'at_risk').length },
    messages: { segmentChanges: segmentChanges.length, atRisk: atRisk.length },
    missing,
    unexpected,
    conflicting,
    wrongKey,
    uncommitted: outbox.uncommitted.length,
    samples,
  };
}

/** Model outputs: computed in floating point from fits whose inputs arrive in no fixed order, so compared to a relative 1e-6. */
const FLOAT_COLUMNS = new Set(['p_alive', 'churn_probability', 'expected_purchases_90d', 'clv_12m']);

export interface ProfileCheck {
  asOf: string;
  faulted: number;
  clean: number;
  /** Customers whose history rows differ in any column but updated_at (or exist on one side only). */
  mismatches: number;
  /** Largest relative difference seen in the model columns (within tolerance or not). */
  maxRelativeFloatDifference: number;
  samples: string[];
}

type HistoryRow = Record<string, unknown> & { customer_id: string };

async function historyAt(clickhouse: ClickHouseClient, asOf: Date): Promise<Map<string, HistoryRow>> {
  const rows = await (await clickhouse.query({
    query: `SELECT * EXCEPT (updated_at) FROM customer_scores_history FINAL WHERE as_of = {as_of:DateTime64(3, 'UTC')} ORDER BY customer_id`,
    query_params: { as_of: (asOf.getTime() / 1000).toFixed(3) },
    format: 'JSONEachRow',
  })).json<HistoryRow>();
  return new Map(rows.map((r) => [r.customer_id, r]));
}

/** customer_scores_history at one as_of, all columns but updated_at, in two databases. */
export async function compareHistory(faulted: ClickHouseClient, clean: ClickHouseClient, asOf: Date): Promise<ProfileCheck> {
  const a = await historyAt(faulted, asOf);
  const b = await historyAt(clean, asOf);
  let mismatches = 0;
  let maxRelative = 0;
  const samples: string[] = [];
  for (const customer of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(customer);
    const y = b.get(customer);
    const differences: string[] = [];
    if (!x || !y) differences.push(x ? 'only in the faulted run' : 'only in the clean run');
    else {
      for (const column of Object.keys(y)) {
        const u = x[column];
        const v = y[column];
        if (FLOAT_COLUMNS.has(column) && typeof u === 'number' && typeof v === 'number') {
          const relative = Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v), 1e-300);
          if (u !== v) maxRelative = Math.max(maxRelative, relative);
          if (relative > 1e-6 && Math.abs(u - v) > 1e-12) differences.push(`${column} ${u} vs ${v}`);
        } else if (JSON.stringify(u) !== JSON.stringify(v)) differences.push(`${column} ${JSON.stringify(u)} vs ${JSON.stringify(v)}`);
      }
    }
    if (differences.length > 0) {
      mismatches++;
      if (samples.length < 5) samples.push(`${customer}: ${differences.slice(0, 4).join('; ')}`);
    }
  }
  return { asOf: asOf.toISOString(), faulted: a.size, clean: b.size, mismatches, maxRelativeFloatDifference: maxRelative, samples };
}
