import { columnList, SCORING_RUNS, type ClickHouseClient } from '@crm/clickhouse';
import { fitsOfRun, type ScoringModels } from './fits.js';
import { AS_OF, dateFromText, dateParam, type RunContext } from './run-context.js';

/**
 * scoring_runs: what each full run decided for the population — the exact
 * cut points, the fits it scored with and whether it was the baseline.
 * Incremental updates score against the newest run that can be a basis.
 */

/**
 * A full run's population cut points, recorded before its profile rows are
 * built (incremental updates then reuse them): exact RFM quintiles over
 * customers with a purchase in the window, exact 50/80/95 % clv quantiles
 * over buyers (and of clv_alive, for the worth-keeping tier), which fits it
 * scored with and whether it is the baseline.
 */
export async function recordRun(
  ctx: RunContext,
  scores: string,
  run: { asOf: Date; fitsAsOf: { mbgnbd?: Date | undefined; gammaGamma?: Date | undefined }; baseline: boolean },
): Promise<void> {
  const quintiles = 'quantilesExact(0.2, 0.4, 0.6, 0.8)';
  const pyramid = 'quantilesExact(0.5, 0.8, 0.95)';
  const values: Record<keyof typeof SCORING_RUNS.columns, string> = {
    as_of: AS_OF,
    r_cuts: `(SELECT arrayMap(v -> toFloat64(v), ${quintiles}(recency_days)) FROM ${scores} WHERE frequency > 0)`,
    f_cuts: `(SELECT arrayMap(v -> toFloat64(v), ${quintiles}(frequency)) FROM ${scores} WHERE frequency > 0)`,
    m_cuts: `(SELECT ${quintiles}(monetary) FROM ${scores} WHERE frequency > 0)`,
    tier_cuts: `(SELECT ${pyramid}(assumeNotNull(clv)) FROM ${scores} WHERE clv IS NOT NULL)`,
    keep_cuts: `(SELECT ${pyramid}(assumeNotNull(clv_alive)) FROM ${scores} WHERE clv_alive IS NOT NULL)`,
    customers: `(SELECT count() FROM ${scores})`,
    mbgnbd_fit_as_of: "{mbgnbd_fit_as_of:Nullable(DateTime64(3, 'UTC'))}",
    gamma_gamma_fit_as_of: "{gamma_gamma_fit_as_of:Nullable(DateTime64(3, 'UTC'))}",
    baseline: '{baseline:Bool}',
    finished_at: 'now64(3)',
  };
  await ctx.command(`INSERT INTO ${SCORING_RUNS.name} (${columnList(SCORING_RUNS)}) SELECT ${Object.values(values).join(',\n  ')}`, {
    as_of: dateParam(run.asOf),
    mbgnbd_fit_as_of: run.fitsAsOf.mbgnbd ? dateParam(run.fitsAsOf.mbgnbd) : null,
    gamma_gamma_fit_as_of: run.fitsAsOf.gammaGamma ? dateParam(run.fitsAsOf.gammaGamma) : null,
    baseline: run.baseline,
  });
}

/** Whether an earlier run had buyers: the first run with buyers on an installation is its baseline (an empty start-up run does not count). */
export async function earlierRunWithBuyers(ctx: RunContext, asOf: Date): Promise<boolean> {
  const [earlier] = await ctx.select<{ n: string | number }>(`SELECT count() AS n FROM scoring_runs WHERE customers > 0 AND as_of < ${AS_OF}`, {
    as_of: dateParam(asOf),
  });
  return Number(earlier?.n ?? 0) > 0;
}

/** The newest run's as_of in epoch milliseconds (0: none yet). */
export async function newestRunMs(clickhouse: ClickHouseClient): Promise<number> {
  const result = await clickhouse.query({ query: 'SELECT toUnixTimestamp64Milli(max(as_of)) AS ms FROM scoring_runs', format: 'JSONEachRow' });
  const [row] = await result.json<{ ms: string | number }>();
  return Number(row?.ms ?? 0);
}

/**
 * The basis of incremental updates: the newest full run that had buyers and a
 * converged MBG/NBD fit, with its fits. A start-up run on an empty database,
 * or one before any fit converged, is never a basis — an update without one
 * writes nothing and the next full run scores those customers.
 */
export interface UpdateBasis {
  asOf: Date;
  models: ScoringModels;
}

export async function updateBasis(ctx: Pick<RunContext, 'select'>): Promise<UpdateBasis | undefined> {
  // Text aliases differ from the columns: an alias would shadow the column in WHERE.
  const [run] = await ctx.select<{ as_of_text: string; mbgnbd_text: string; gamma_gamma_text: string | null }>(
    `SELECT toString(as_of) AS as_of_text, toString(assumeNotNull(mbgnbd_fit_as_of)) AS mbgnbd_text,
            if(gamma_gamma_fit_as_of IS NULL, NULL, toString(assumeNotNull(gamma_gamma_fit_as_of))) AS gamma_gamma_text
     FROM scoring_runs FINAL
     WHERE customers > 0 AND mbgnbd_fit_as_of IS NOT NULL
     ORDER BY as_of DESC
     LIMIT 1`,
  );
  if (!run) return undefined;
  const models = await fitsOfRun(ctx.select, { mbgnbdAsOf: run.mbgnbd_text, gammaGammaAsOf: run.gamma_gamma_text });
  return models.mbgnbd ? { asOf: dateFromText(run.as_of_text), models } : undefined;
}

/**
 * updateBasis, asked again only when the newest run changed (`newestRun`, itself asked at most
 * once a second): a basis changes once per full run, and every update needs it.
 */
export function basisCache(newestRun: () => Promise<number>): (ctx: Pick<RunContext, 'select'>) => Promise<UpdateBasis | undefined> {
  let cached: { newest: number; basis: Promise<UpdateBasis | undefined> } | undefined;
  return async (ctx) => {
    const newest = await newestRun();
    if (cached?.newest !== newest) {
      const basis = updateBasis(ctx);
      cached = { newest, basis };
      // A failed look is not kept.
      basis.catch(() => {
        if (cached?.basis === basis) cached = undefined;
      });
    }
    return cached.basis;
  };
}
