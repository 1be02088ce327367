import { randomBytes } from 'node:crypto';
import type { ClickHouseClient, ClickHouseSettings } from '@crm/clickhouse';
import type { CustomerGroup, SpendRow } from '@crm/models';
import type { Logger } from '@crm/runtime';
import { customerStatsSql } from './customer-stats.js';
import { chooseModels, fitsOfRun, recordFits, refitDue, storedFits, type ChosenModels } from './fits.js';
import { fitModels, predictGroups, type ModelFits, type ScoringModels } from './model-stage.js';
import { DEFAULT_SCORING_PARAMETERS, type ScoringParameters } from './parameters.js';
import { HISTORY_COLUMNS, onlyCustomers, PROFILE_COLUMNS, profileRowsSql, recordCutPointsSql } from './profiles.js';
import { scopedReadFilters } from './scope.js';
import { NOT_SUPERSEDED, outboxChangesSql, riskParameters } from './segment-changes.js';
import type { WriteLock } from './write-lock.js';

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

const dateParam = (date: Date) => (date.getTime() / 1000).toFixed(3);

/** Per-run table names and query helpers; every table is dropped at the end, so concurrent runs never share state. */
function runContext(clickhouse: ClickHouseClient, logger?: Logger) {
  const run = randomBytes(6).toString('hex');
  const tables: string[] = [];
  let phaseStarted = Date.now();
  let readFilters: string | undefined;
  const settings = () => ({ wait_end_of_query: 1 as const, ...(readFilters && { additional_table_filters: readFilters }) });
  const command = async (query: string, query_params: Record<string, unknown> = {}) => {
    const started = Date.now();
    const result = await clickhouse.command({ query, query_params, clickhouse_settings: settings() as ClickHouseSettings });
    logger?.trace({ statement: query.trim().slice(0, 48).replace(/\s+/g, ' ').replace(/_[0-9a-f]{12}\b/, ''), ms: Date.now() - started }, 'statement done');
    return result;
  };
  return {
    clickhouse,
    command,
    /** From now on, every table is read through these filters (see scope.ts). */
    filterReads(filters: string): void {
      readFilters = filters;
    },
    table(name: string): string {
      tables.push(`scoring_${name}_${run}`);
      return tables.at(-1)!;
    },
    async select<T>(query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
      return (await clickhouse.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: settings() as ClickHouseSettings })).json<T>();
    },
    phase(name: string): void {
      logger?.debug({ phase: name, ms: Date.now() - phaseStarted }, 'scoring phase done');
      phaseStarted = Date.now();
    },
    async dropAll(): Promise<void> {
      await Promise.all(tables.map((name) => command(`DROP TABLE IF EXISTS ${name}`).catch(() => undefined)));
    },
  };
}
type RunContext = ReturnType<typeof runContext>;

/**
 * The per-customer scores as of T (statistics and model predictions) in a
 * table. Sufficient statistics are aggregated in ClickHouse; only the grouped
 * (x, t_x, T) counts and the repeat buyers' (x, m̄) cross into Node for the
 * fits, and predictions go back once per distinct (x, t_x, T). Without
 * `models` the models are fitted here (a full run); with them (an
 * incremental update) the given fits are used.
 */
async function scoreTables(
  ctx: RunContext,
  asOf: Date,
  parameters: ScoringParameters,
  options: { scopeTable?: string; models?: ScoringModels; logger?: Logger },
): Promise<{ purchases: string; scores: string; buyers: number; fits?: ModelFits; chosen?: ChosenModels }> {
  const [stats, groupsTable, scores] = ['stats', 'groups', 'scores'].map((n) => ctx.table(n)) as [string, string, string];
  const asOfParam = dateParam(asOf);
  // A few customers' intermediates live in memory: no parts to write, a cheaper statement each.
  const engine = (orderBy: string) => (options.scopeTable ? 'Memory' : `MergeTree ORDER BY ${orderBy}`);
  const purchasesAsOf = `SELECT customer_id, order_id, placed_at, value FROM purchases_as_of(as_of = {as_of:DateTime64(3, 'UTC')})`;
  let purchases: string;
  if (options.scopeTable) {
    // Scoped reads make the view cheap for a few customers: no copy, one statement less.
    purchases = `(${purchasesAsOf} ${onlyCustomers(options.scopeTable)})`;
  } else {
    // The purchase definition is evaluated once per run; statistics and signals both read it.
    purchases = ctx.table('purchases');
    await ctx.command(`CREATE TABLE ${purchases} ENGINE = MergeTree ORDER BY customer_id AS ${purchasesAsOf}`, { as_of: asOfParam });
  }
  ctx.phase('purchases as of T');
  await ctx.command(customerStatsSql(stats, purchases, engine('customer_id')), { as_of: asOfParam, window_days: parameters.windowDays });
  ctx.phase('customer statistics');
  const groups = (await ctx.select<{ x: number; t_x: number; T: number; count: string | number }>(
    `SELECT x, t_x, T_c AS T, count() AS count FROM ${stats} GROUP BY x, t_x, T_c`,
  )).map((g): CustomerGroup => ({ x: g.x, t_x: g.t_x, T: g.T, count: Number(g.count) }));
  const buyers = groups.reduce((n, g) => n + (g.count ?? 1), 0);

  let fits: ModelFits | undefined;
  let chosen: ChosenModels | undefined;
  let models = options.models;
  if (!models) {
    const spend = (await ctx.select<{ x: number; mbar: number; count: string | number }>(
      `SELECT x, m_bar AS mbar, count() AS count FROM ${stats} WHERE x >= 1 AND m_bar > 0 GROUP BY x, m_bar`,
    )).map((r): SpendRow => ({ x: r.x, mbar: r.mbar, count: Number(r.count) }));
    const stored = await storedFits(ctx.select, asOf);
    ctx.phase('read fit inputs');
    // Refitting on every run would move every score with the fit's wobble; the cadence keeps them still.
    if (refitDue(stored, { asOf, buyers, repeatBuyers: spend.length }, parameters)) {
      const fitStarted = Date.now();
      fits = fitModels(groups, spend);
      for (const failure of fits.failures) options.logger?.error({ model: failure.model, error: failure.error }, 'model fit failed; the newest converged fit is used');
      options.logger?.info({ ms: Date.now() - fitStarted, groups: groups.length, spendRows: spend.length }, 'models fitted');
      await recordFits(ctx.clickhouse, asOf, fits);
      ctx.phase('fit models');
    }
    chosen = chooseModels(asOf, fits, stored);
    models = chosen.models;
  }
  await ctx.command(
    `CREATE TABLE ${groupsTable} (x UInt32, t_x UInt32, T_c UInt32, p_alive Float64, expected_90d Float64, clv_factor Float64, clv_alive_factor Float64)
     ENGINE = ${engine('(x, t_x, T_c)')}`,
  );
  if (models.mbgnbd) {
    const predictions = predictGroups(models.mbgnbd, groups, parameters);
    for (let i = 0; i < predictions.length; i += 100_000) {
      await ctx.clickhouse.insert({ table: groupsTable, values: predictions.slice(i, i + 100_000), format: 'JSONEachRow' });
    }
  }
  ctx.phase('predict and write groups');

  const gg = models.gammaGamma;
  const spendOk = gg !== undefined && gg.q > 1;
  await ctx.command(
    `CREATE TABLE ${scores} ENGINE = ${engine('customer_id')} AS
     SELECT s.*, g.p_alive AS p_alive, g.expected_90d AS expected_90d,
            if(NOT {gg_ok:Bool}, NULL,
               if(s.x = 0, {gg_mean:Float64},
                 ({gg_q:Float64} - 1) / ({gg_p:Float64} * s.x + {gg_q:Float64} - 1) * {gg_mean:Float64}
                 + ({gg_p:Float64} * s.x) / ({gg_p:Float64} * s.x + {gg_q:Float64} - 1) * s.m_bar)) AS expected_value,
            g.clv_factor * expected_value AS clv,
            g.clv_alive_factor * expected_value AS clv_alive
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
  ctx.phase('per-customer scores');
  return { purchases, scores, buyers, ...(fits && { fits }), ...(chosen && { chosen }) };
}

/** The profile rows (signals, segments, tiers, stages) in a table; cut points are those of the run `basisAsOf`. */
async function profileRows(
  ctx: RunContext,
  tables: { scores: string; purchases: string; scopeTable?: string },
  asOf: Date,
  basisAsOf: Date,
  parameters: ScoringParameters,
): Promise<string> {
  const rows = ctx.table('rows');
  const engine = tables.scopeTable ? 'Memory' : 'MergeTree ORDER BY tuple()';
  await ctx.command(`CREATE TABLE ${rows} ENGINE = ${engine} AS ${profileRowsSql(tables.scores, tables.purchases, tables.scopeTable)}`, {
    as_of: dateParam(asOf),
    basis_as_of: dateParam(basisAsOf),
    window_days: parameters.windowDays,
    new_days: parameters.newCustomerDays,
    reactivation_days: parameters.reactivationDays,
    churn_threshold: parameters.churnThreshold,
    at_risk_threshold: parameters.atRiskThreshold,
    stage_hysteresis: parameters.stageHysteresis,
    nps_window_days: parameters.npsWindowDays,
  });
  ctx.phase('profile rows (signals, segments, tiers, stages)');
  return rows;
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
    const params = { as_of: dateParam(asOf), changed_at: dateParam(changedAt), ...riskParameters(parameters.risk, what.baseline) };
    const columns = PROFILE_COLUMNS.join(', ');
    // On an empty table max(as_of) is the epoch, so the first run is always current.
    const profiles = what.profiles === 'always' || Boolean((await ctx.select<{ current: number }>(
      "SELECT max(as_of) <= {as_of:DateTime64(3, 'UTC')} AS current FROM scoring_runs",
      { as_of: dateParam(asOf) },
    ))[0]?.current);
    fence();
    if (profiles) await ctx.command(`INSERT INTO customer_profiles (${columns}) SELECT ${columns} FROM ${rows} WHERE ${NOT_SUPERSEDED}`, params);
    fence();
    if (what.history) await ctx.command(`INSERT INTO customer_scores_history (${HISTORY_COLUMNS.join(', ')}) SELECT ${HISTORY_COLUMNS.join(', ')} FROM ${rows}`);
    fence();
    // Only the newest state is news: re-scoring the past records no changes.
    if (profiles) await ctx.command(outboxChangesSql(rows), params);
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
    const scored = await scoreTables(ctx, asOf, parameters, { ...(logger && { logger }) });
    // The first run with buyers on an installation is its baseline (an earlier empty start-up run does not count).
    const [earlier] = await ctx.select<{ n: string | number }>(
      "SELECT count() AS n FROM scoring_runs WHERE customers > 0 AND as_of < {as_of:DateTime64(3, 'UTC')}",
      { as_of: dateParam(asOf) },
    );
    const baseline = scored.buyers > 0 && Number(earlier?.n ?? 0) === 0;
    const fitsAsOf = { mbgnbd: scored.chosen?.mbgnbdAsOf, gammaGamma: scored.chosen?.gammaGammaAsOf };
    await ctx.command(recordCutPointsSql(scored.scores), {
      as_of: dateParam(asOf),
      mbgnbd_fit_as_of: fitsAsOf.mbgnbd ? dateParam(fitsAsOf.mbgnbd) : null,
      gamma_gamma_fit_as_of: fitsAsOf.gammaGamma ? dateParam(fitsAsOf.gammaGamma) : null,
      baseline,
    });
    const rows = await profileRows(ctx, scored, asOf, asOf, parameters);
    const profilesWritten = await writeResults(ctx, lock, rows, asOf, parameters, { profiles: 'if-newest', history: true, baseline });
    const [count] = await ctx.select<{ n: number }>(`SELECT count() AS n FROM ${rows}`);
    return {
      asOf,
      ms: Date.now() - started,
      customers: Number(count?.n ?? 0),
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
 * per full run.
 */
export async function rescoreCustomers(
  clickhouse: ClickHouseClient,
  customers: readonly string[],
  asOf: Date,
  parameters: ScoringParameters,
  lock: WriteLock,
  logger?: Logger,
): Promise<Rescore> {
  const started = Date.now();
  const ctx = runContext(clickhouse, logger);
  try {
    const basis = await newestRun(ctx);
    if (!basis || customers.length === 0) return { asOf, ms: Date.now() - started, customers: 0 };
    const scopeTable = ctx.table('scope');
    const anonymousTable = ctx.table('scope_anonymous');
    await ctx.command(`CREATE TABLE ${scopeTable} (customer_id String) ENGINE = Memory`);
    await clickhouse.insert({ table: scopeTable, values: customers.map((customer_id) => ({ customer_id })), format: 'JSONEachRow' });
    await ctx.command(
      `CREATE TABLE ${anonymousTable} ENGINE = Memory AS SELECT DISTINCT anonymous_id FROM identity_links WHERE customer_id IN ${scopeTable}`,
    );
    ctx.filterReads(scopedReadFilters(await databaseOf(clickhouse), scopeTable, anonymousTable));
    const scored = await scoreTables(ctx, asOf, parameters, { scopeTable, models: basis.models });
    const rows = await profileRows(ctx, { ...scored, scopeTable }, asOf, basis.asOf, parameters);
    await writeResults(ctx, lock, rows, asOf, parameters, { profiles: 'always', history: false, baseline: false });
    return { asOf, ms: Date.now() - started, customers: customers.length, basisAsOf: basis.asOf };
  } finally {
    await ctx.dropAll();
  }
}

const databases = new WeakMap<ClickHouseClient, Promise<string>>();

/** The client's database, asked once per client. */
function databaseOf(clickhouse: ClickHouseClient): Promise<string> {
  if (!databases.has(clickhouse)) {
    databases.set(
      clickhouse,
      clickhouse
        .query({ query: 'SELECT currentDatabase() AS database', format: 'JSONEachRow' })
        .then((r) => r.json<{ database: string }>())
        .then(([row]) => row!.database)
        .catch((error: unknown) => {
          databases.delete(clickhouse);
          throw error;
        }),
    );
  }
  return databases.get(clickhouse)!;
}

/**
 * The basis of incremental updates: the newest full run that had buyers and a
 * converged MBG/NBD fit, with its fits. A start-up run on an empty database,
 * or one before any fit converged, is never a basis — an update without one
 * writes nothing and the next full run scores those customers.
 */
async function newestRun(ctx: RunContext): Promise<{ asOf: Date; models: ScoringModels } | undefined> {
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
  return models.mbgnbd ? { asOf: new Date(`${run.as_of_text.replace(' ', 'T')}Z`), models } : undefined;
}
