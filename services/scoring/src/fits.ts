import { MODEL_FITS, type RowOf } from '@crm/clickhouse';
import {
  fitBgnbd,
  fitGammaGamma,
  fitMbgnbd,
  type CustomerGroup,
  type GammaGammaFit,
  type GammaGammaParams,
  type SpendRow,
  type TransactionFit,
  type TransactionParams,
} from '@crm/models';
import type { Logger } from '@crm/runtime';
import type { ScoringParameters } from './parameters.js';
import { AS_OF, dateFromText, dateParam, type RunContext } from './run-context.js';

/**
 * Model fits in model_fits: every attempt is recorded (converged or not, with
 * standard errors when it converged); scores only ever use converged ones.
 * Full runs refit on a cadence and reuse the newest converged fit in between.
 */

export type ModelName = 'bgnbd' | 'mbgnbd' | 'gamma_gamma';

export interface ModelFits {
  bgnbd?: TransactionFit;
  mbgnbd?: TransactionFit;
  gammaGamma?: GammaGammaFit;
  /** Why a model could not be fitted (a clear message, never NaN scores), and over how many customers it was tried. */
  failures: { model: ModelName; error: string; customers: number }[];
}

/** The fitted parameters scores are computed with: a full run's own fits, or the newest run's for an incremental update. */
export interface ScoringModels {
  mbgnbd?: TransactionParams;
  gammaGamma?: GammaGammaParams;
}

/**
 * Fits all three models with standard errors (inverse Hessian at the optimum,
 * where it is positive definite: a ridge optimum — e.g. Gamma-Gamma's q, v → ∞
 * when spend hardly varies between customers — still predicts well and has
 * none). A fit that did not converge, or converged onto the boundary, throws
 * in @crm/models; it is reported as a failure and not used.
 */
export function fitModels(groups: CustomerGroup[], spend: SpendRow[]): ModelFits {
  const fits: ModelFits = { failures: [] };
  const count = (rows: readonly { count?: number }[]) => rows.reduce((n, r) => n + (r.count ?? 1), 0);
  const attempt = <T>(model: ModelName, customers: number, fit: () => T): T | undefined => {
    try {
      return fit();
    } catch (error) {
      fits.failures.push({ model, error: (error as Error).message, customers });
      return undefined;
    }
  };
  if (groups.length > 0) {
    // A bounded search: on data the model does not describe, a failed fit must fail fast.
    const bgnbd = attempt('bgnbd', count(groups), () => fitBgnbd(groups, { maxIterations: 300, standardErrors: 'when-identified' }));
    const mbgnbd = attempt('mbgnbd', count(groups), () => fitMbgnbd(groups, { maxIterations: 300, standardErrors: 'when-identified' }));
    if (bgnbd) fits.bgnbd = bgnbd;
    if (mbgnbd) fits.mbgnbd = mbgnbd;
  }
  if (spend.length > 0) {
    const gg = attempt('gamma_gamma', count(spend), () => fitGammaGamma(spend, { maxIterations: 300, standardErrors: 'when-identified' }));
    if (gg) fits.gammaGamma = gg;
  }
  return fits;
}

/**
 * The models a full run as of T scores with: refitted when due (every
 * attempt recorded), else the newest converged stored fits. Refitting on
 * every run would move every score with the fit's wobble; the cadence keeps them still.
 */
export async function fitsForRun(
  ctx: RunContext,
  asOf: Date,
  inputs: { groups: CustomerGroup[]; spend: SpendRow[]; buyers: number },
  parameters: ScoringParameters,
  logger?: Logger,
): Promise<{ fits?: ModelFits; chosen: ChosenModels }> {
  const stored = await storedFits(ctx.select, asOf);
  ctx.phase('read fit inputs');
  let fits: ModelFits | undefined;
  if (refitDue(stored, { asOf, buyers: inputs.buyers, repeatBuyers: inputs.spend.length }, parameters)) {
    const fitStarted = Date.now();
    fits = fitModels(inputs.groups, inputs.spend);
    for (const failure of fits.failures) logger?.error({ model: failure.model, error: failure.error }, 'model fit failed; the newest converged fit is used');
    logger?.info({ ms: Date.now() - fitStarted, groups: inputs.groups.length, spendRows: inputs.spend.length }, 'models fitted');
    await recordFits(ctx, asOf, fits);
    ctx.phase('fit models');
  }
  return { ...(fits && { fits }), chosen: chooseModels(asOf, fits, stored) };
}

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

/** The newest attempt and the newest converged fit of each model at or before T (point in time: no fit from T's future). */
export async function storedFits(select: Select, asOf: Date): Promise<StoredFits> {
  const rows = await select<{ model: ModelName; as_of_text: string; params: Record<string, number>; customers: string | number; converged: boolean | number }>(
    `SELECT model, toString(as_of) AS as_of_text, params, customers, converged
     FROM model_fits FINAL
     WHERE as_of <= ${AS_OF}
     ORDER BY as_of DESC
     LIMIT 1 BY model, converged`,
    { as_of: dateParam(asOf) },
  );
  const fits: StoredFits = { newestAttempt: {}, newestConverged: {} };
  for (const row of rows) {
    const fit: StoredFit = { model: row.model, asOf: dateFromText(row.as_of_text), params: row.params, customers: Number(row.customers), converged: Boolean(row.converged) };
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
async function recordFits(ctx: RunContext, asOf: Date, fits: ModelFits): Promise<void> {
  const fittedAt = (Date.now() / 1000).toFixed(3);
  const converged = [
    fits.bgnbd && { model: 'bgnbd', fit: fits.bgnbd },
    fits.mbgnbd && { model: 'mbgnbd', fit: fits.mbgnbd },
    fits.gammaGamma && { model: 'gamma_gamma', fit: fits.gammaGamma },
  ]
    .filter((r) => r !== undefined)
    .map(({ model, fit }): RowOf<typeof MODEL_FITS> => ({
      as_of: dateParam(asOf),
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
  const failed = fits.failures.map((failure): RowOf<typeof MODEL_FITS> => ({
    as_of: dateParam(asOf),
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
  if (rows.length > 0) await ctx.clickhouse.insert({ table: MODEL_FITS.name, values: rows, format: 'JSONEachRow' });
}
