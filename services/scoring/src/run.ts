import { refreshDashboardAggregates, type ClickHouseClient } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';
import { fitsForRun, type ChosenModels, type ModelFits, type ScoringModels } from './fits.js';
import { recordChanges } from './outbox.js';
import { DEFAULT_SCORING_PARAMETERS, type ScoringParameters } from './parameters.js';
import { profileRows, rowCount, writeHistory, writeProfiles } from './profile-rows.js';
import { purchasesAsOf } from './purchases.js';
import { runContext, type RunContext } from './run-context.js';
import { earlierRunWithBuyers, newestRunMs, recordRun, updateBasis, type UpdateBasis } from './runs.js';
import { customerScores } from './scores.js';
import { scopeTo } from './scope.js';
import { customerSignals } from './signals.js';
import { customerGroups, customerStatistics, spendRows } from './statistics.js';
import type { WriteLock } from './write-lock.js';

/**
 * The coordinator of a scoring run: which stages run in which order, and
 * what a full run and an incremental update each write. Every statement
 * lives in its stage's module (docs/SCORING.md "Where the SQL lives").
 */

export interface ScoringRun {
  asOf: Date;
  ms: number;
  customers: number;
  buyers: number;
  /** False when a later run already wrote the profiles: then only history is written. */
  profilesWritten: boolean;
  /** This run's fit attempts; empty when it reused the newest fits (see SCORING_REFIT_INTERVAL). */
  fits: ModelFits;
  /** The runs whose MBG/NBD and Gamma-Gamma fits scored this one (undefined: no converged fit yet). */
  fitsAsOf: { mbgnbd?: Date; gammaGamma?: Date };
  /** The installation's first run with buyers: its at-risk entries are recorded, not sent (unless RISK_ALERT_ON_BASELINE). */
  baseline: boolean;
}

export interface Rescore {
  asOf: Date;
  ms: number;
  customers: number;
  /** The full run whose cut points and fits were used; undefined (and nothing written) before the first run. */
  basisAsOf?: Date;
}

/**
 * The per-customer scores as of T (statistics and model predictions) in a
 * table. Sufficient statistics are aggregated in ClickHouse; only the grouped
 * (x, t_x, T) counts and the repeat buyers' (x, m̄) cross into Node for the
 * fits, and predictions go back once per distinct (x, t_x, T). Without
 * `models` the models are fitted (or the stored fits reused) here: a full
 * run; with them (an incremental update) the given fits are used.
 */
async function scoreTables(
  ctx: RunContext,
  asOf: Date,
  parameters: ScoringParameters,
  options: { scopeTable?: string; models?: ScoringModels; logger?: Logger; afterSignals?: { name: string; work: () => Promise<unknown> } },
): Promise<{ signals: string; scores: string; buyers: number; fits?: ModelFits; chosen?: ChosenModels }> {
  const stats = await customerStatistics(ctx, purchasesAsOf(options.scopeTable), asOf, parameters.windowDays);
  ctx.phase('purchases and customer statistics');
  // The signals need no model: ClickHouse computes them (then `afterSignals`) while Node reads the fit inputs and fits.
  const signalsThen = async () => {
    const signals = await customerSignals(ctx, stats, asOf, parameters.npsWindowDays, options.scopeTable);
    await options.afterSignals?.work();
    return signals;
  };
  const [signals, scored] = await both(
    ctx.alongside(['signals', options.afterSignals?.name].filter(Boolean).join(', '), signalsThen()),
    modelScores(ctx, stats, asOf, parameters, options),
  );
  return { signals, ...scored };
}

/** The model part of scoreTables: fits (or the given models) and the per-customer scores table. */
async function modelScores(
  ctx: RunContext,
  stats: string,
  asOf: Date,
  parameters: ScoringParameters,
  options: { models?: ScoringModels; logger?: Logger },
): Promise<{ scores: string; buyers: number; fits?: ModelFits; chosen?: ChosenModels }> {
  const groups = await customerGroups(ctx, stats);
  const buyers = groups.reduce((n, g) => n + (g.count ?? 1), 0);
  let models = options.models;
  let fitted: { fits?: ModelFits; chosen: ChosenModels } | undefined;
  if (!models) {
    fitted = await fitsForRun(ctx, asOf, { groups, spend: await spendRows(ctx, stats), buyers }, parameters, options.logger);
    models = fitted.chosen.models;
  }
  const scores = await customerScores(ctx, stats, groups, models, parameters);
  return { scores, buyers, ...(fitted?.fits && { fits: fitted.fits }), ...(fitted && { chosen: fitted.chosen }) };
}

/**
 * Both results once both have settled, or the first failure: a run never ends (and drops its
 * scratch tables) while a statement of it is still creating one.
 */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/**
 * Writes one result under the write lease: profiles (unless superseded by
 * newer data), history (full runs only), segment and risk changes into the
 * outbox; the lease then commits the write with its mark. Whether a full run
 * is still the newest is decided inside, so a concurrent writer cannot slip in between.
 */
async function writeResults(
  ctx: RunContext,
  lock: WriteLock,
  rows: string,
  asOf: Date,
  parameters: ScoringParameters,
  what: { profiles: 'always' | 'if-newest'; history: boolean; baseline: boolean },
): Promise<boolean> {
  const written = await lock.exclusive(async (changedAt, fence) => {
    const profiles = what.profiles === 'always' || (await newestRunMs(ctx.clickhouse)) <= asOf.getTime();
    fence();
    // Only the newest state is news: re-scoring the past records no changes.
    const changes = () => recordChanges(ctx, rows, asOf, changedAt, parameters.risk, what.baseline);
    if (!what.history) {
      // An update's few rows: profiles and changes at once (neither reads what the other writes).
      if (profiles) await Promise.all([writeProfiles(ctx, rows, asOf), changes()]);
      return profiles;
    }
    // A full run's writes are large: one at a time keeps the host's memory to one statement's.
    if (profiles) await writeProfiles(ctx, rows, asOf);
    fence();
    await writeHistory(ctx, rows);
    fence();
    if (profiles) await changes();
    return profiles;
  });
  ctx.phase('write profiles, history and changes');
  return written;
}

/**
 * One full scoring run as of T: statistics, fits, the population's cut
 * points, and every customer's profile. A run older than the newest one
 * (re-scoring the past) writes history only; profiles keep the newest state.
 */
export async function scoreCustomers(
  clickhouse: ClickHouseClient,
  asOf: Date,
  parameters: ScoringParameters = DEFAULT_SCORING_PARAMETERS,
  logger: Logger | undefined,
  lock: WriteLock,
): Promise<ScoringRun> {
  const started = Date.now();
  const ctx = runContext(clickhouse, logger);
  try {
    const scored = await scoreTables(ctx, asOf, parameters, {
      ...(logger && { logger }),
      // Those of the events need none of this run's results: beside the fits, after the signals.
      afterSignals: { name: 'dashboard aggregates of the events', work: () => refreshDashboardAggregates(clickhouse, 'events') },
    });
    // The first run with buyers on an installation is its baseline (an earlier empty start-up run does not count).
    const baseline = scored.buyers > 0 && !(await earlierRunWithBuyers(ctx, asOf));
    const fitsAsOf = { mbgnbd: scored.chosen?.mbgnbdAsOf, gammaGamma: scored.chosen?.gammaGammaAsOf };
    await recordRun(ctx, scored.scores, { asOf, fitsAsOf, baseline });
    const rows = await profileRows(ctx, scored, asOf, asOf, parameters);
    const profilesWritten = await writeResults(ctx, lock, rows, asOf, parameters, { profiles: 'if-newest', history: true, baseline });
    // After the write: the aggregates of the scores are of what the tables now hold (history included).
    await refreshDashboardAggregates(clickhouse, 'scores');
    ctx.phase('dashboard aggregates of the scores');
    return {
      asOf,
      ms: Date.now() - started,
      customers: await rowCount(ctx, rows),
      buyers: scored.buyers,
      profilesWritten,
      fits: scored.fits ?? { failures: [] },
      fitsAsOf: { ...(fitsAsOf.mbgnbd && { mbgnbd: fitsAsOf.mbgnbd }), ...(fitsAsOf.gammaGamma && { gammaGamma: fitsAsOf.gammaGamma }) },
      baseline,
    };
  } finally {
    await ctx.dropAll();
  }
}

/**
 * An incremental update: the given customers re-scored as of T against the
 * newest full run's cut points and model fits, their profiles rewritten and
 * their changes recorded — no fit, no population statistics. History stays
 * per full run. `basisOf` finds the basis (the incremental consumer keeps it between updates).
 */
export async function rescoreCustomers(
  clickhouse: ClickHouseClient,
  customers: readonly string[],
  asOf: Date,
  parameters: ScoringParameters,
  lock: WriteLock,
  logger?: Logger,
  basisOf: (ctx: RunContext) => Promise<UpdateBasis | undefined> = updateBasis,
): Promise<Rescore> {
  const started = Date.now();
  const ctx = runContext(clickhouse, logger);
  try {
    const basis = await basisOf(ctx);
    if (!basis || customers.length === 0) return { asOf, ms: Date.now() - started, customers: 0 };
    const scopeTable = await scopeTo(ctx, customers);
    const scored = await scoreTables(ctx, asOf, parameters, { scopeTable, models: basis.models });
    const rows = await profileRows(ctx, { ...scored, scopeTable }, asOf, basis.asOf, parameters);
    await writeResults(ctx, lock, rows, asOf, parameters, { profiles: 'always', history: false, baseline: false });
    return { asOf, ms: Date.now() - started, customers: customers.length, basisAsOf: basis.asOf };
  } finally {
    // The result is committed: its few in-memory scratch tables go while the next update runs
    // (one that outlives a crash is dropped at the next start, see dropStaleRunTables).
    void ctx.dropAll();
  }
}
