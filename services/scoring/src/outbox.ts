import { columnList, columnNames, CUSTOMER_PROFILES, SEGMENT_CHANGES, type ClickHouseClient, type ColumnOf } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';
import type { RiskRules } from './parameters.js';
import { BASIS_RUN, NOT_SUPERSEDED, valueTierSql } from './profile-rows.js';
import { AS_OF, dateParam, WRITE_SETTINGS, type RunContext } from './run-context.js';
import { onlyCustomers } from './scope.js';
import { VALUE_TIERS } from './segments.js';
import { DETRACTOR_MAX_NPS, supportSignalsSql } from './signals.js';

/**
 * The outbox (segment_changes): change detection and risk decisions of a
 * rows table, written under the write lease (docs/SCORING.md) and committed
 * by its mark; a write that could not commit removes its rows again.
 */

/**
 * The name-based event id, inside ClickHouse: SHA-1 of customer, type, from,
 * to and as_of (joined by U+001F) laid out as a version-5 UUID — the same
 * bytes as `nameBasedUuid` in @crm/events computes, so any component can
 * recompute it. Reads the columns customer_id, segment_type, from_value,
 * to_value and as_of.
 */
const EVENT_ID_SQL = (() => {
  const name = "concat(customer_id, '\\x1f', segment_type, '\\x1f', ifNull(from_value, ''), '\\x1f', to_value, '\\x1f', toString(as_of))";
  const h = `lower(hex(SHA1(${name})))`;
  return `toUUID(concat(substring(${h}, 1, 8), '-', substring(${h}, 9, 4), '-5', substring(${h}, 14, 3), '-',
      substring('89ab', (intDiv(reinterpretAsUInt8(unhex(substring(${h}, 17, 2))), 16) % 4) + 1, 1), substring(${h}, 18, 3), '-',
      substring(${h}, 21, 12)))`;
})();

type SnapshotColumn = ColumnOf<typeof SEGMENT_CHANGES> & ColumnOf<typeof CUSTOMER_PROFILES>;
/** The profile values each outbox row carries, as of its decision. */
const SNAPSHOT = [
  'r_score', 'f_score', 'm_score', 'rfm_segment', 'lifecycle_stage', 'value_tier', 'churn_probability', 'clv_12m',
] as const satisfies readonly SnapshotColumn[];
const SCORE_COLUMNS = SNAPSHOT.map((c) => `r.${c} AS ${c}`).join(', ');

/**
 * An outbox row's values in the table's column order, over a subquery with
 * customer_id, segment_type, from_value, to_value, as_of and the snapshot.
 */
function outboxRow(values: { drivers: string; publish: string }): string {
  const row: Record<ColumnOf<typeof SEGMENT_CHANGES>, string> = {
    event_id: EVENT_ID_SQL,
    customer_id: 'customer_id',
    segment_type: 'segment_type',
    from: 'from_value',
    to: 'to_value',
    as_of: 'as_of',
    changed_at: "{changed_at:DateTime64(3, 'UTC')}",
    ...(Object.fromEntries(SNAPSHOT.map((c) => [c, c])) as Record<(typeof SNAPSHOT)[number], string>),
    ...values,
  };
  return columnNames(SEGMENT_CHANGES).map((c) => row[c]).join(', ');
}

/** The last recorded value per customer for some segment types, and when it was scored. */
const lastRecorded = (types: string) => `
  SELECT customer_id, segment_type, argMax(\`to\`, (as_of, changed_at)) AS value, max(as_of) AS recorded_as_of
  FROM segment_changes
  WHERE segment_type IN (${types})
  GROUP BY customer_id, segment_type`;

/**
 * Change detection: for each customer of
 * the rows table and each segmentation (rfm, lifecycle, tier), a row when the
 * new value differs from the last one recorded (`from` null on first
 * assignment) and the rows are newer than it. An unchanged customer produces
 * nothing, so a run with no new data records nothing.
 */
function segmentChangesSelect(rowsTable: string): string {
  return `
    SELECT ${outboxRow({ drivers: '[]', publish: 'true' })}
    FROM
    (
      SELECT r.customer_id AS customer_id, seg.1 AS segment_type, seg.2 AS to_value, last.value AS from_value, r.as_of AS as_of,
             ${SCORE_COLUMNS}
      FROM (SELECT * FROM ${rowsTable} WHERE ${NOT_SUPERSEDED}) AS r
      ARRAY JOIN [('rfm', r.rfm_segment), ('lifecycle', r.lifecycle_stage), ('tier', ifNull(r.value_tier, ''))] AS seg
      LEFT JOIN (${lastRecorded("'rfm', 'lifecycle', 'tier'")}) AS last ON last.customer_id = r.customer_id AND last.segment_type = seg.1
      WHERE seg.2 != '' AND (last.value IS NULL OR (last.value != seg.2 AND r.as_of > last.recorded_as_of))
    )`;
}

/**
 * At-risk decisions, recorded as segment_type 'risk' (DESIGN.md
 * "Output events", rules in docs/METRICS.md). A customer not at risk enters
 * (`to` at_risk) when worth keeping (worth-keeping tier ≥ the minimum: the
 * pyramid over clv_alive_12m, which does not fall as the customer goes quiet)
 * and churn_probability reaches the risk threshold, or — the real-time path —
 * when of a worth-keeping tier ≥ the real-time minimum with an open complaint
 * or a detractor as last NPS answer (within the NPS window). Entries of a
 * baseline run are recorded with publish = false unless configured.
 * An at-risk customer recovers (`to` recovered) only when churn_probability is
 * below the lower recovery threshold, no complaint is open and the last NPS
 * answer is not a detractor's; until then nothing repeats.
 */
function riskChangesSelect(rows: string, only: 'entries' | 'all' = 'all'): string {
  const churn = 'ifNull(r.churn_probability, 0)';
  const detractor = `ifNull(r.last_nps, 10) <= ${DETRACTOR_MAX_NPS}`;
  const tierRank = `indexOf([${VALUE_TIERS.map((t) => `'${t}'`).join(', ')}], ifNull(r.keep_tier, ''))`;
  return `
    SELECT ${outboxRow({ drivers: "if(to_value = 'at_risk', drivers, [])", publish: "to_value != 'at_risk' OR {risk_publish:Bool}" })}
    FROM
    (
      SELECT r.customer_id AS customer_id, 'risk' AS segment_type, last.value AS from_value, r.as_of AS as_of, ${SCORE_COLUMNS},
             multiIf(
               ifNull(last.value, '') != 'at_risk'
                 AND ((${tierRank} >= {risk_min_rank:UInt8} AND ${churn} >= {risk_churn:Float64})
                   OR (${tierRank} >= {risk_realtime_rank:UInt8} AND (r.open_complaints > 0 OR ${detractor}))), 'at_risk',
               last.value = 'at_risk' AND ${churn} < {risk_recovery:Float64} AND r.open_complaints = 0 AND NOT ${detractor}, 'recovered',
               '') AS to_value,
             arrayFilter(d -> d != '', [
               if(${churn} >= {risk_churn:Float64}, 'recency_overdue', ''),
               if(r.open_complaints > 0, 'open_complaint', ''),
               if(${detractor}, 'detractor', ''),
               if(ifNull(r.csat, 100) < {risk_low_csat:Float64}, 'low_csat', ''),
               if(r.clicks_30d = 0 AND r.last_click_at IS NOT NULL, 'engagement_drop', '')]) AS drivers,
             last.recorded_as_of AS recorded_as_of
      FROM (${rows}) AS r
      LEFT JOIN (${lastRecorded("'risk'")}) AS last ON last.customer_id = r.customer_id
    )
    WHERE ${only === 'entries' ? "to_value = 'at_risk'" : "to_value != ''"} AND (recorded_as_of IS NULL OR as_of > recorded_as_of)`;
}

/** The statement of recordChanges. Parameters: as_of, changed_at and riskParameters(). */
export function outboxChangesSql(rowsTable: string): string {
  return `
    INSERT INTO ${SEGMENT_CHANGES.name} (${columnList(SEGMENT_CHANGES)})
    ${segmentChangesSelect(rowsTable)}
    UNION ALL
    ${riskChangesSelect(`SELECT * FROM ${rowsTable} WHERE ${NOT_SUPERSEDED}`)}
    SETTINGS join_use_nulls = 1, ${WRITE_SETTINGS}`;
}

/**
 * The real-time path alone (DESIGN.md: "at once when a complaint or a
 * detractor response arrives"): at-risk entries of these customers decided
 * on their stored profile as last scored (its worth-keeping tier over the
 * basis run's keep_cuts, its churn_probability and engagement) with the
 * support signals as they are now (open complaints, last NPS answer, CSAT,
 * from the ticket and survey views). Only entries: recovery needs a re-score.
 * The same rules as outboxChangesSql, so the re-score that follows finds the
 * entry recorded and repeats nothing. The customers are a scope table's;
 * parameters: as_of, basis_as_of, changed_at, nps_window_days and riskParameters().
 */
export function realtimeRiskSql(scopeTable: string): string {
  const only = onlyCustomers(scopeTable);
  const keepCuts = `(SELECT keep_cuts FROM ${BASIS_RUN})`;
  const rows = `
      SELECT p.customer_id AS customer_id, ${AS_OF} AS as_of,
             ${SNAPSHOT.map((c) => `p.${c} AS ${c}`).join(', ')},
             ${valueTierSql('p.clv_alive_12m', keepCuts)} AS keep_tier,
             s.open_complaints AS open_complaints, s.last_nps AS last_nps, s.csat AS csat,
             p.clicks_30d AS clicks_30d, p.last_click_at AS last_click_at
      FROM (SELECT * FROM ${CUSTOMER_PROFILES.name} FINAL ${only}) AS p
      INNER JOIN (${supportSignalsSql(only)}) AS s ON s.customer_id = p.customer_id`;
  return `
    INSERT INTO ${SEGMENT_CHANGES.name} (${columnList(SEGMENT_CHANGES)})
    ${riskChangesSelect(rows, 'entries')}
    SETTINGS join_use_nulls = 1`;
}

/** The risk rules as query parameters of outboxChangesSql; `baseline`: the rows are a baseline run's. */
export function riskParameters(rules: RiskRules, baseline = false): Record<string, number | boolean> {
  return {
    risk_publish: !baseline || rules.alertOnBaseline,
    risk_min_rank: VALUE_TIERS.indexOf(rules.minTier) + 1,
    risk_realtime_rank: VALUE_TIERS.indexOf(rules.realtimeMinTier) + 1,
    risk_churn: rules.churnThreshold,
    risk_recovery: rules.recoveryThreshold,
    risk_low_csat: rules.lowCsat,
  };
}

/**
 * Segment changes and risk decisions of the rows table into the outbox, in
 * one statement, stamped `changedAt` (the write lease's). `baseline`: the rows are a baseline run's.
 */
export async function recordChanges(ctx: RunContext, rows: string, asOf: Date, changedAt: Date, rules: RiskRules, baseline: boolean): Promise<void> {
  await ctx.command(outboxChangesSql(rows), { as_of: dateParam(asOf), changed_at: dateParam(changedAt), ...riskParameters(rules, baseline) });
}

/** A write that did not commit leaves no outbox rows that change detection would mistake for published. */
export async function discardUncommitted(clickhouse: ClickHouseClient, changedAt: number, logger?: Logger): Promise<void> {
  await clickhouse
    .command({
      query: "DELETE FROM segment_changes WHERE changed_at = {changed_at:DateTime64(3, 'UTC')}",
      query_params: { changed_at: (changedAt / 1000).toFixed(3) },
      clickhouse_settings: { wait_end_of_query: 1 },
    })
    .catch((error: unknown) => logger?.error({ err: error, changedAt: new Date(changedAt).toISOString() }, 'could not discard the rows of an uncommitted write'));
}
