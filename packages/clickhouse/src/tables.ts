/**
 * The columns of the tables scoring writes, once: name and ClickHouse type in
 * table order, exactly as `system.columns` reports them after the migrations
 * (services/scoring/test/tables.test.ts checks every one). Statements build
 * their column lists from these, and row objects are typed by them, so a
 * column added by a migration is added here and nowhere else.
 */
export interface Table<C extends string = string> {
  readonly name: string;
  /** Column name → ClickHouse type, in the table's order. */
  readonly columns: Readonly<Record<C, string>>;
}

export type ColumnOf<T> = T extends Table<infer C> ? C : never;

/** A row with a value for every column of the table (what an insert of whole rows must provide). */
export type RowOf<T extends Table> = Record<ColumnOf<T>, unknown>;

const table = <const C extends string>(name: string, columns: Record<C, string>): Table<C> => ({ name, columns });

const TIME = "DateTime64(3, 'UTC')";
const NULLABLE_TIME = `Nullable(${TIME})`;
const MONEY = 'Decimal(38, 4)';

/** The scores of a profile, as its history keeps them per run (in both tables in this order). */
const SCORES = {
  recency_days: 'Nullable(UInt32)',
  frequency: 'UInt32',
  monetary: MONEY,
  r_score: 'Nullable(UInt8)',
  f_score: 'Nullable(UInt8)',
  m_score: 'Nullable(UInt8)',
  rfm_segment: 'LowCardinality(String)',
  lifecycle_stage: 'LowCardinality(String)',
  value_tier: 'LowCardinality(Nullable(String))',
  p_alive: 'Nullable(Float64)',
  churn_probability: 'Nullable(Float64)',
  expected_purchases_90d: 'Nullable(Float64)',
  clv_12m: 'Nullable(Float64)',
  clv_alive_12m: 'Nullable(Float64)',
};

/** One current row per customer (ReplacingMergeTree by updated_at: read with FINAL). */
export const CUSTOMER_PROFILES = table('customer_profiles', {
  customer_id: 'String',
  first_seen_at: TIME,
  last_seen_at: TIME,
  first_purchase_at: NULLABLE_TIME,
  last_purchase_at: NULLABLE_TIME,
  purchases_total: 'UInt64',
  revenue_total: MONEY,
  avg_order_value: `Nullable(${MONEY})`,
  clicks_30d: 'UInt64',
  sessions_30d: 'UInt64',
  last_click_at: NULLABLE_TIME,
  open_tickets: 'UInt64',
  complaints_90d: 'UInt64',
  open_complaints: 'UInt64',
  csat: 'Nullable(Float64)',
  last_nps: 'Nullable(UInt8)',
  ...SCORES,
  as_of: TIME,
  updated_at: TIME,
});

/** One row per customer per full run's as_of. */
export const CUSTOMER_SCORES_HISTORY = table('customer_scores_history', {
  as_of: TIME,
  customer_id: 'String',
  ...SCORES,
  purchases_total: 'UInt64',
  revenue_total: MONEY,
  updated_at: TIME,
});

/** Every fit attempt, converged or not. */
export const MODEL_FITS = table('model_fits', {
  as_of: TIME,
  model: 'LowCardinality(String)',
  params: 'Map(String, Float64)',
  standard_errors: 'Map(String, Float64)',
  log_likelihood: 'Float64',
  converged: 'Bool',
  error: 'String',
  customers: 'UInt64',
  groups: 'UInt64',
  iterations: 'UInt32',
  fitted_at: TIME,
});

/** What each full run decided for the population: cut points, the fits it used, baseline or not. */
export const SCORING_RUNS = table('scoring_runs', {
  as_of: TIME,
  r_cuts: 'Array(Float64)',
  f_cuts: 'Array(Float64)',
  m_cuts: `Array(${MONEY})`,
  tier_cuts: 'Array(Float64)',
  keep_cuts: 'Array(Float64)',
  customers: 'UInt64',
  mbgnbd_fit_as_of: NULLABLE_TIME,
  gamma_gamma_fit_as_of: NULLABLE_TIME,
  baseline: 'Bool',
  finished_at: TIME,
});

/** The outbox: segment changes and risk decisions (docs/EVENTS.md); the publisher reads it. */
export const SEGMENT_CHANGES = table('segment_changes', {
  event_id: 'UUID',
  customer_id: 'String',
  segment_type: 'LowCardinality(String)',
  from: 'Nullable(String)',
  to: 'String',
  as_of: TIME,
  changed_at: TIME,
  r_score: 'Nullable(UInt8)',
  f_score: 'Nullable(UInt8)',
  m_score: 'Nullable(UInt8)',
  rfm_segment: 'String',
  lifecycle_stage: 'String',
  value_tier: 'Nullable(String)',
  churn_probability: 'Nullable(Float64)',
  clv_12m: 'Nullable(Float64)',
  drivers: 'Array(LowCardinality(String))',
  publish: 'Bool',
});

/** Commit marks of outbox writes (docs/SCORING.md); committed_at defaults to the server's now. */
export const OUTBOX_COMMITS = table('outbox_commits', {
  changed_at: TIME,
  committed_at: TIME,
  epoch: 'UInt64',
});

/** The write lease's claims, renewals and releases; `at` defaults to the server's now. */
export const SCORING_WRITE_LEASE = table('scoring_write_lease', {
  epoch: 'UInt64',
  kind: 'LowCardinality(String)',
  holder: 'String',
  expires_at: TIME,
  at: TIME,
});

/**
 * The dashboard's aggregates, refreshed by each full run (dashboard-aggregates.ts): each is the
 * analysts' view of the same name without `_runs`, as of `computed_at`.
 */
export const COHORT_RETENTION_RUNS = table('cohort_retention_runs', {
  computed_at: TIME,
  cohort_month: 'Date',
  months_since_first: 'UInt32',
  purchasing_customers: 'UInt64',
  cohort_size: 'UInt64',
  retention_pct: 'Float64',
});

export const CHURN_RETENTION_RUNS = table('churn_retention_runs', {
  computed_at: TIME,
  month: 'Date',
  active_at_start: 'UInt64',
  churned: 'UInt64',
  churn_rate_pct: 'Nullable(Float64)',
  retention_rate_pct: 'Nullable(Float64)',
});

export const REVENUE_CONCENTRATION_RUNS = table('revenue_concentration_runs', {
  computed_at: TIME,
  buyers: 'UInt64',
  revenue_total: 'Float64',
  top20_share_pct: 'Nullable(Float64)',
});

export const SATISFACTION_RUNS = table('satisfaction_runs', {
  computed_at: TIME,
  month: 'Date',
  csat_responses: 'UInt64',
  csat_satisfied_pct: 'Nullable(Float64)',
  nps_responses: 'UInt64',
  nps: 'Nullable(Float64)',
  ces_responses: 'UInt64',
  ces_avg: 'Nullable(Float64)',
  csat_csi: 'Nullable(Float64)',
  nps_csi: 'Nullable(Float64)',
  ces_csi: 'Nullable(Float64)',
});

/** Every table scoring writes. */
export const SCORING_TABLES: readonly Table[] = [
  CUSTOMER_PROFILES,
  CUSTOMER_SCORES_HISTORY,
  MODEL_FITS,
  SCORING_RUNS,
  SEGMENT_CHANGES,
  OUTBOX_COMMITS,
  SCORING_WRITE_LEASE,
  COHORT_RETENTION_RUNS,
  CHURN_RETENTION_RUNS,
  REVENUE_CONCENTRATION_RUNS,
  SATISFACTION_RUNS,
];

export function columnNames<T extends Table>(table: T): ColumnOf<T>[] {
  return Object.keys(table.columns) as ColumnOf<T>[];
}

/** A column list for INSERT or SELECT: every column in table order, or the ones named; quoted (`from` and `to` are keywords). */
export function columnList<T extends Table>(table: T, names: readonly ColumnOf<T>[] = columnNames(table)): string {
  return names.map((name) => `\`${name}\``).join(', ');
}

/** The column definitions of a CREATE TABLE, e.g. for a scratch table of one run. */
export function columnDefinitions(table: Table): string {
  return Object.entries(table.columns)
    .map(([name, type]) => `\`${name}\` ${type as string}`)
    .join(', ');
}
