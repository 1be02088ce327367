-- Stable scores and retention semantics (issue 10; docs/METRICS.md "History and fits",
-- "Customer-at-risk decisions").

-- A fit records how sure it is and whether the optimiser converged; one that did not is kept
-- for the record (with the reason) but never used.
ALTER TABLE {database}.model_fits ADD COLUMN IF NOT EXISTS standard_errors Map(String, Float64) AFTER params;
ALTER TABLE {database}.model_fits ADD COLUMN IF NOT EXISTS converged Bool DEFAULT true AFTER log_likelihood;
ALTER TABLE {database}.model_fits ADD COLUMN IF NOT EXISTS error String AFTER converged;

-- What each full run was based on: the fits it scored with (fits are refitted on a cadence, so
-- usually an earlier run's), the worth-keeping cut points and whether it was the installation's
-- baseline. Incremental updates use only a run with buyers (`customers`, which counts buyers) and a fit.
ALTER TABLE {database}.scoring_runs ADD COLUMN IF NOT EXISTS mbgnbd_fit_as_of Nullable(DateTime64(3, 'UTC')) AFTER customers;
ALTER TABLE {database}.scoring_runs ADD COLUMN IF NOT EXISTS gamma_gamma_fit_as_of Nullable(DateTime64(3, 'UTC')) AFTER mbgnbd_fit_as_of;
ALTER TABLE {database}.scoring_runs ADD COLUMN IF NOT EXISTS keep_cuts Array(Float64) AFTER tier_cuts;
ALTER TABLE {database}.scoring_runs ADD COLUMN IF NOT EXISTS baseline Bool DEFAULT false AFTER gamma_gamma_fit_as_of;

-- The value at stake if the customer stays: clv_12m given alive (it does not fall with P(alive)).
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS clv_alive_12m Nullable(Float64) AFTER clv_12m;
ALTER TABLE {database}.customer_scores_history ADD COLUMN IF NOT EXISTS clv_alive_12m Nullable(Float64) AFTER clv_12m;

-- Baseline at-risk entries are recorded but not sent (unless RISK_ALERT_ON_BASELINE=true):
-- the publisher skips rows with publish = false.
ALTER TABLE {database}.segment_changes ADD COLUMN IF NOT EXISTS publish Bool DEFAULT true;

-- The at-risk list, always readable, whether or not its entries were sent.
CREATE VIEW IF NOT EXISTS {database}.at_risk_customers AS
SELECT
    customer_id,
    argMax(`to`, (as_of, changed_at)) AS state,
    max(as_of) AS since,
    argMax(drivers, (as_of, changed_at)) AS drivers,
    argMax(churn_probability, (as_of, changed_at)) AS churn_probability,
    argMax(value_tier, (as_of, changed_at)) AS value_tier,
    argMax(clv_12m, (as_of, changed_at)) AS clv_12m,
    argMax(publish, (as_of, changed_at)) AS alerted
FROM {database}.segment_changes
WHERE segment_type = 'risk'
GROUP BY customer_id
HAVING state = 'at_risk';
