-- The risk state as before (0015), with one argMax of the newest decision's fields instead of
-- one per field: the at-risk page reads it on every view, and each argMax was a pass of its own.
CREATE OR REPLACE VIEW {database}.at_risk_customers AS
SELECT
    customer_id,
    tupleElement(newest, 1) AS state,
    since,
    tupleElement(newest, 2) AS drivers,
    tupleElement(newest, 3) AS churn_probability,
    tupleElement(newest, 4) AS value_tier,
    tupleElement(newest, 5) AS clv_12m,
    tupleElement(newest, 6) AS alerted
FROM
(
    SELECT customer_id, max(as_of) AS since, argMax((`to`, drivers, churn_probability, value_tier, clv_12m, publish), (as_of, changed_at)) AS newest
    FROM {database}.segment_changes
    WHERE segment_type = 'risk'
    GROUP BY customer_id
)
WHERE state = 'at_risk';
