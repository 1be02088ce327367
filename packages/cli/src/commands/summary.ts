import type { ClickHouseClient } from '@crm/clickhouse';
import { LIFECYCLE_STAGES, VALUE_TIERS, valueTierSql, type RiskRules } from '@crm/scoring';
import { runSql } from './sql.js';

export interface SummaryInputs {
  /** The risk rules the scoring service runs with (who is watched). */
  risk: RiskRules;
  /** What crm.customer-at-risk.v1 holds (sentAlerts). */
  sent: { alerts: number; customers: number };
}

const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

/**
 * The readable summary `crm demo` ends with: the customer base, its lifecycle
 * mix, segments, the value pyramid, the at-risk alerts and the best
 * customers. Values that exist only for buyers are shown only for buyers, so
 * a NULL in it is a customer the scoring left without a score.
 */
export async function printSummary(clickhouse: ClickHouseClient, out: NodeJS.WritableStream, inputs: SummaryInputs): Promise<void> {
  const show = async (title: string, query: string, params: Record<string, unknown> = {}) => {
    out.write(`\n${title}\n`);
    await runSql(clickhouse, query, 'PrettyCompactMonoBlock', out, params);
  };
  await show(
    'Customers',
    `SELECT count() AS customers,
            countIf(purchases_total > 0) AS buyers,
            sum(purchases_total) AS purchases,
            toString(sum(revenue_total)) AS net_revenue,
            toString(round(sum(revenue_total) / greatest(sum(purchases_total), 1), 2)) AS avg_order_value,
            round(100 * countIf(lifecycle_stage = 'active') / greatest(buyers, 1), 1) AS active_pct_of_buyers
     FROM customer_profiles FINAL`,
  );
  // Every stage is listed, an empty one with 0.
  await show(
    'Lifecycle stages',
    `SELECT stage AS lifecycle_stage, ifNull(n, 0) AS customers, round(100 * ifNull(n, 0) / greatest((SELECT count() FROM customer_profiles FINAL), 1), 1) AS pct
     FROM (SELECT arrayJoin(${list(LIFECYCLE_STAGES)}) AS stage) AS s
     LEFT JOIN (SELECT lifecycle_stage, count() AS n FROM customer_profiles FINAL GROUP BY lifecycle_stage) AS c ON c.lifecycle_stage = s.stage
     ORDER BY indexOf(${list(LIFECYCLE_STAGES)}, stage)
     SETTINGS join_use_nulls = 1`,
  );
  await show(
    'RFM segments',
    `SELECT rfm_segment, count() AS customers, toString(round(sum(monetary), 2)) AS monetary_in_window
     FROM customer_profiles FINAL GROUP BY rfm_segment ORDER BY customers DESC`,
  );
  await show(
    'Customer pyramid (buyers by 12-month CLV; exact 50/80/95 % cut points)',
    `SELECT value_tier, count() AS buyers, round(100 * buyers / sum(buyers) OVER (), 1) AS pct_of_buyers,
            round(avg(clv_12m), 2) AS avg_clv_12m, toString(sum(revenue_total)) AS net_revenue
     FROM customer_profiles FINAL
     WHERE purchases_total > 0
     GROUP BY value_tier
     ORDER BY indexOf(${list([...VALUE_TIERS].reverse())}, ifNull(value_tier, ''))`,
  );
  // Watched: the customers the scoring path's at-risk rule looks at: worth-keeping tier (the pyramid
  // over clv_alive_12m, cut where the newest run with buyers cut it) ≥ RISK_MIN_TIER.
  const keepCuts = '(SELECT argMax(keep_cuts, as_of) FROM scoring_runs FINAL WHERE customers > 0)';
  await show(
    `At-risk alerts (watched: buyers whose worth-keeping tier is ${inputs.risk.minTier} or above; the first run is a baseline whose entries are recorded${inputs.risk.alertOnBaseline ? ' and sent' : ', not sent (RISK_ALERT_ON_BASELINE=true sends them)'})`,
    `SELECT countIf(indexOf(${list(VALUE_TIERS)}, ifNull(keep_tier, '')) >= {min_rank:UInt8}) AS watched,
            (SELECT uniqExact(customer_id) FROM segment_changes WHERE segment_type = 'risk' AND \`to\` = 'at_risk') AS alerted_customers,
            (SELECT uniqExact(event_id) FROM segment_changes WHERE segment_type = 'risk' AND \`to\` = 'at_risk') AS alerts_recorded,
            {sent:UInt64} AS alerts_sent,
            {sent_customers:UInt64} AS sent_to_customers,
            round(100 * alerted_customers / greatest(watched, 1), 1) AS alerted_pct_of_watched
     FROM (SELECT ${valueTierSql('clv_alive_12m', keepCuts)} AS keep_tier FROM customer_profiles FINAL)`,
    { min_rank: VALUE_TIERS.indexOf(inputs.risk.minTier) + 1, sent: inputs.sent.alerts, sent_customers: inputs.sent.customers },
  );
  await show(
    'Top 10 customers by net revenue',
    `SELECT customer_id, purchases_total AS purchases, toString(revenue_total) AS net_revenue,
            toDate(last_purchase_at) AS last_purchase, rfm_segment, lifecycle_stage, value_tier, round(p_alive, 3) AS p_alive, round(clv_12m, 2) AS clv_12m
     FROM customer_profiles FINAL
     ORDER BY revenue_total DESC, customer_id
     LIMIT 10`,
  );
}
