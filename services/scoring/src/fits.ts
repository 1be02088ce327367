import type { ClickHouseClient } from '@crm/clickhouse';
import type { GammaGammaParams, TransactionParams } from '@crm/models';
import type { ModelFits, ModelName, ScoringModels } from './model-stage.js';

/**
 * Model fits in model_fits: every attempt is recorded (converged or not, with
 * standard errors when it converged); scores only ever use converged ones.
 * Full runs refit on a cadence and reuse the newest converged fit in between.
 */

/** A stored fit or attempt; `asOf` is the run that made it. */
export interface StoredFit {
  model: ModelName;
  asOf: Date;
  params: Record<string, number>;
  customers: number;
  converged: boolean;
}

/** Per model, the newest attempt and the newest converged fit at or before some T. */
export interface StoredFits {
  newestAttempt: Partial<Record<ModelName, StoredFit>>;
  newestConverged: Partial<Record<ModelName, StoredFit>>;
}

/** The models scores are computed with, and the run whose fit each one is. */
export interface ChosenModels {
  models: ScoringModels;
  mbgnbdAsOf?: Date;
  gammaGammaAsOf?: Date;
}

type Select = <T>(query: string, params?: Record<string, unknown>) => Promise<T[]>;

const seconds = (date: Date) => (date.getTime() / 1000).toFixed(3);
const fromText = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);

/** The newest attempt and the newest converged fit of each model at or before T (point in time: no fit from T's future). */
export async function storedFits(select: Select, asOf: Date): Promise<StoredFits> {
  const rows = await select<{ model: ModelName; as_of_text: string; params: Record<string, number>; customers: string | number; converged: boolean | number }>(
    `SELECT model, toString(as_of) AS as_of_text, params, customers, converged
     FROM model_fits FINAL
     WHERE as_of <= {as_of:DateTime64(3, 'UTC')}
     ORDER BY as_of DESC
     LIMIT 1 BY model, converged`,
    { as_of: seconds(asOf) },
  );
  const fits: StoredFits = { newestAttempt: {}, newestConverged: {} };
  for (const row of rows) {
    const fit: StoredFit = { model: row.model, asOf: fromText(row.as_of_text), params: row.params, customers: Number(row.customers), converged: Boolean(row.converged) };
    const attempt = fits.newestAttempt[fit.model];
    if (!attempt || attempt.asOf < fit.asOf) fits.newestAttempt[fit.model] = fit;
    if (fit.converged) fits.newestConverged[fit.model] = fit;
  }
  return fits;
}

/**
 * Whether a full run as of T refits: when a model it can fit has no attempt
 * within the refit interval, or the number of buyers moved by more than the
 * growth fraction since the newest MBG/NBD attempt (a young shop's first fit
 * must not stand for a day while the population doubles).
 */
export function refitDue(
  stored: StoredFits,
  run: { asOf: Date; buyers: number; repeatBuyers: number },
  rules: { refitIntervalSeconds: number; refitOnGrowth: number },
): boolean {
  const fresh = (fit: StoredFit | undefined) => fit !== undefined && run.asOf.getTime() - fit.asOf.getTime() < rules.refitIntervalSeconds * 1000;
  if (run.buyers > 0 && !fresh(stored.newestAttempt.mbgnbd)) return true;
  if (run.repeatBuyers > 0 && !fresh(stored.newestAttempt.gamma_gamma)) return true;
  const fitted = stored.newestAttempt.mbgnbd?.customers ?? 0;
  return run.buyers > 0 && Math.abs(run.buyers - fitted) > rules.refitOnGrowth * Math.max(fitted, 1);
}

const transactionParams = (p: Record<string, number>): TransactionParams => ({ r: p.r!, alpha: p.alpha!, a: p.a!, b: p.b! });
const gammaGammaParams = (p: Record<string, number>): GammaGammaParams => ({ p: p.p!, q: p.q!, v: p.v! });

/** Each model from this run's converged fit, else the newest converged stored one; a model with neither stays out. */
export function chooseModels(asOf: Date, fits: ModelFits | undefined, stored: StoredFits): ChosenModels {
  const storedMbgnbd = stored.newestConverged.mbgnbd;
  const storedGammaGamma = stored.newestConverged.gamma_gamma;
  const mbgnbd = fits?.mbgnbd ? { params: fits.mbgnbd.params, asOf } : storedMbgnbd && { params: transactionParams(storedMbgnbd.params), asOf: storedMbgnbd.asOf };
  const gammaGamma = fits?.gammaGamma
    ? { params: fits.gammaGamma.params, asOf }
    : storedGammaGamma && { params: gammaGammaParams(storedGammaGamma.params), asOf: storedGammaGamma.asOf };
  return {
    models: { ...(mbgnbd && { mbgnbd: mbgnbd.params }), ...(gammaGamma && { gammaGamma: gammaGamma.params }) },
    ...(mbgnbd && { mbgnbdAsOf: mbgnbd.asOf }),
    ...(gammaGamma && { gammaGammaAsOf: gammaGamma.asOf }),
  };
}

/** The parameters of the fits a run used (see scoring_runs.*_fit_as_of). */
export async function fitsOfRun(select: Select, run: { mbgnbdAsOf: string; gammaGammaAsOf: string | null }): Promise<ScoringModels> {
  const rows = await select<{ model: ModelName; params: Record<string, number> }>(
    `SELECT model, params FROM model_fits FINAL
     WHERE converged AND ((model = 'mbgnbd' AND as_of = {m:DateTime64(3, 'UTC')})
        OR (model = 'gamma_gamma' AND as_of = {g:Nullable(DateTime64(3, 'UTC'))}))`,
    { m: run.mbgnbdAsOf, g: run.gammaGammaAsOf },
  );
  const mbgnbd = rows.find((r) => r.model === 'mbgnbd')?.params;
  const gammaGamma = rows.find((r) => r.model === 'gamma_gamma')?.params;
  return { ...(mbgnbd && { mbgnbd: transactionParams(mbgnbd) }), ...(gammaGamma && { gammaGamma: gammaGammaParams(gammaGamma) }) };
}

/** Every attempt of this run: converged fits with their standard errors, failures with the reason. */
export async function recordFits(clickhouse: ClickHouseClient, asOf: Date, fits: ModelFits): Promise<void> {
  const fittedAt = (Date.now() / 1000).toFixed(3);
  const converged = [
    fits.bgnbd && { model: 'bgnbd', fit: fits.bgnbd },
    fits.mbgnbd && { model: 'mbgnbd', fit: fits.mbgnbd },
    fits.gammaGamma && { model: 'gamma_gamma', fit: fits.gammaGamma },
  ]
    .filter((r) => r !== undefined)
    .map(({ model, fit }) => ({
      as_of: seconds(asOf),
      model,
      params: fit.params,
      standard_errors: fit.standardErrors ?? {},
      log_likelihood: fit.logLikelihood,
      converged: true,
      error: '',
      customers: fit.customers,
      groups: fit.groups,
      iterations: fit.iterations,
      fitted_at: fittedAt,
    }));
  const failed = fits.failures.map((failure) => ({
    as_of: seconds(asOf),
    model: failure.model,
    params: {},
    standard_errors: {},
    log_likelihood: 0,
    converged: false,
    error: failure.error,
    customers: failure.customers,
    groups: 0,
    iterations: 0,
    fitted_at: fittedAt,
  }));
  const rows = [...converged, ...failed];
  if (rows.length > 0) await clickhouse.insert({ table: 'model_fits', values: rows, format: 'JSONEachRow' });
}
