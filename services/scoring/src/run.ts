import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@crm/clickhouse';
import type { CustomerGroup, SpendRow } from '@crm/models';
import type { Logger } from '@crm/runtime';
import { customerStatsSql } from './customer-stats.js';
import { fitModels, predictGroups, type ModelFits } from './model-stage.js';
import { DEFAULT_SCORING_PARAMETERS, type ScoringParameters } from './parameters.js';
import { HISTORY_COLUMNS, PROFILE_COLUMNS, profileRowsSql } from './profiles.js';
import { segmentChangesSql } from './segment-changes.js';

export interface ScoringRun {
  asOf: Date;
  ms: number;
  customers: number;
  buyers: number;
  /** False when a later run already wrote the profiles: then only history is written. */
  profilesWritten: boolean;
  fits: ModelFits;
}

/**
 * One scoring run as of T. Sufficient statistics are aggregated in ClickHouse;
 * only the grouped (x, t_x, T) counts and the repeat buyers' (x, m̄) cross into
 * Node for the fits, and predictions go back once per distinct (x, t_x, T).
 * Everything per customer is joined and segmented inside ClickHouse.
 * Intermediate tables are per run, so concurrent runs never share state.
 */
export async function scoreCustomers(
  clickhouse: ClickHouseClient,
  asOf: Date,
  parameters: ScoringParameters = DEFAULT_SCORING_PARAMETERS,
  logger?: Logger,
): Promise<ScoringRun> {
  const started = Date.now();
  const run = randomBytes(6).toString('hex');
  const table = (name: string) => `scoring_${name}_${run}`;
  const [purchases, stats, groupsTable, scores, rows] = ['purchases', 'stats', 'groups', 'scores', 'rows'].map(table) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const asOfParam = (asOf.getTime() / 1000).toFixed(3);
  let phaseStarted = Date.now();
  const phase = (name: string) => {
    logger?.info({ phase: name, ms: Date.now() - phaseStarted }, 'scoring phase done');
    phaseStarted = Date.now();
  };
  const command = (query: string, query_params: Record<string, unknown> = {}) =>
    clickhouse.command({ query, query_params, clickhouse_settings: { wait_end_of_query: 1 } });
  const select = async <T>(query: string, query_params: Record<string, unknown> = {}) =>
    (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

  try {
    // The purchase definition is evaluated once per run; statistics and signals both read it.
    await command(
      `CREATE TABLE ${purchases} ENGINE = MergeTree ORDER BY customer_id AS
       SELECT customer_id, order_id, placed_at, value FROM purchases_as_of(as_of = {as_of:DateTime64(3, 'UTC')})`,
      { as_of: asOfParam },
    );
    phase('purchases as of T');
    await command(customerStatsSql(stats, purchases), { as_of: asOfParam, window_days: parameters.windowDays });
    phase('customer statistics');
    const groups = (await select<{ x: number; t_x: number; T: number; count: string | number }>(
      `SELECT x, t_x, T_c AS T, count() AS count FROM ${stats} GROUP BY x, t_x, T_c`,
    )).map((g): CustomerGroup => ({ x: g.x, t_x: g.t_x, T: g.T, count: Number(g.count) }));
    const spend = (await select<{ x: number; mbar: number; count: string | number }>(
      `SELECT x, m_bar AS mbar, count() AS count FROM ${stats} WHERE x >= 1 AND m_bar > 0 GROUP BY x, m_bar`,
    )).map((r): SpendRow => ({ x: r.x, mbar: r.mbar, count: Number(r.count) }));
    const buyers = groups.reduce((n, g) => n + (g.count ?? 1), 0);
    phase('read fit inputs');

    const fitStarted = Date.now();
    const fits = fitModels(groups, spend);
    for (const failure of fits.failures) logger?.error({ model: failure.model, error: failure.error }, 'model fit failed; its scores stay empty');
    logger?.info({ ms: Date.now() - fitStarted, groups: groups.length, spendRows: spend.length }, 'models fitted');
    await recordFits(clickhouse, asOf, fits);
    phase('fit models');

    await command(
      `CREATE TABLE ${groupsTable} (x UInt32, t_x UInt32, T_c UInt32, p_alive Float64, expected_90d Float64, clv_factor Float64)
       ENGINE = MergeTree ORDER BY (x, t_x, T_c)`,
    );
    if (fits.mbgnbd) {
      const predictions = predictGroups(fits.mbgnbd, groups, parameters);
      for (let i = 0; i < predictions.length; i += 100_000) {
        await clickhouse.insert({ table: groupsTable, values: predictions.slice(i, i + 100_000), format: 'JSONEachRow' });
      }
    }

    phase('predict and write groups');
    const gg = fits.gammaGamma?.params;
    const spendOk = gg !== undefined && gg.q > 1;
    await command(
      `CREATE TABLE ${scores} ENGINE = MergeTree ORDER BY customer_id AS
       SELECT s.*, g.p_alive AS p_alive, g.expected_90d AS expected_90d,
              if(g.clv_factor IS NULL OR NOT {gg_ok:Bool}, NULL,
                 g.clv_factor * if(s.x = 0, {gg_mean:Float64},
                   ({gg_q:Float64} - 1) / ({gg_p:Float64} * s.x + {gg_q:Float64} - 1) * {gg_mean:Float64}
                   + ({gg_p:Float64} * s.x) / ({gg_p:Float64} * s.x + {gg_q:Float64} - 1) * s.m_bar)) AS clv
       FROM ${stats} AS s
       LEFT JOIN ${groupsTable} AS g ON g.x = s.x AND g.t_x = s.t_x AND g.T_c = s.T_c
       SETTINGS join_use_nulls = 1`,
      {
        gg_ok: spendOk,
        gg_p: spendOk ? gg.p : 1,
        gg_q: spendOk ? gg.q : 2,
        // Gamma-Gamma's population mean p·v/(q − 1): the expected value for x = 0.
        gg_mean: spendOk ? (gg.p * gg.v) / (gg.q - 1) : 0,
      },
    );

    phase('per-customer scores');
    const params = {
      as_of: asOfParam,
      window_days: parameters.windowDays,
      new_days: parameters.newCustomerDays,
      reactivation_days: parameters.reactivationDays,
      churn_threshold: parameters.churnThreshold,
      at_risk_threshold: parameters.atRiskThreshold,
    };
    await command(`CREATE TABLE ${rows} ENGINE = MergeTree ORDER BY tuple() AS ${profileRowsSql(scores, purchases)}`, params);

    phase('profile rows (signals, segments, tiers, stages)');
    // On an empty table max(as_of) is the epoch, so the first run is always current.
    const [newest] = await select<{ current: number }>(
      "SELECT max(as_of) <= {as_of:DateTime64(3, 'UTC')} AS current FROM customer_profiles",
      { as_of: asOfParam },
    );
    // A re-score of the past writes history only; profiles keep the newest state.
    const profilesWritten = Boolean(newest?.current);
    if (profilesWritten) {
      await command(`INSERT INTO customer_profiles (${PROFILE_COLUMNS.join(', ')}) SELECT ${PROFILE_COLUMNS.join(', ')} FROM ${rows}`);
    }
    await command(`INSERT INTO customer_scores_history (${HISTORY_COLUMNS.join(', ')}) SELECT ${HISTORY_COLUMNS.join(', ')} FROM ${rows}`);
    // Only the newest state is news: re-scoring the past records no segment changes.
    if (profilesWritten) await command(segmentChangesSql(rows));
    phase('write profiles and history');
    const [count] = await select<{ n: number }>(`SELECT count() AS n FROM ${rows}`);
    return { asOf, ms: Date.now() - started, customers: Number(count?.n ?? 0), buyers, profilesWritten, fits };
  } finally {
    for (const name of [purchases, stats, groupsTable, scores, rows]) await command(`DROP TABLE IF EXISTS ${name}`).catch(() => undefined);
  }
}

async function recordFits(clickhouse: ClickHouseClient, asOf: Date, fits: ModelFits): Promise<void> {
  const rows = [
    fits.bgnbd && { model: 'bgnbd', fit: fits.bgnbd },
    fits.mbgnbd && { model: 'mbgnbd', fit: fits.mbgnbd },
    fits.gammaGamma && { model: 'gamma_gamma', fit: fits.gammaGamma },
  ]
    .filter((r) => r !== undefined)
    .map(({ model, fit }) => ({
      as_of: (asOf.getTime() / 1000).toFixed(3),
      model,
      params: fit.params,
      log_likelihood: fit.logLikelihood,
      customers: fit.customers,
      groups: fit.groups,
      iterations: fit.iterations,
      fitted_at: (Date.now() / 1000).toFixed(3),
    }));
  if (rows.length > 0) await clickhouse.insert({ table: 'model_fits', values: rows, format: 'JSONEachRow' });
}
