-- The same definition as before (an order's state as of `as_of` is its latest event by
-- occurred_at, then event_id as text), computed by sorting and LIMIT 1 BY instead of one
-- argMax per column: at millions of orders the argMax states dominated every scoring run
-- (150 s of 209 s for 7.7 M orders).
CREATE OR REPLACE VIEW {database}.order_states_as_of AS
SELECT
    order_id,
    customer_id,
    status,
    placed_at,
    total,
    refunded_amount,
    currency,
    fx_rate,
    channel,
    payment_method,
    items,
    first_event_at,
    occurred_at AS last_event_at
FROM
(
    SELECT *, min(occurred_at) OVER (PARTITION BY order_id) AS first_event_at
    FROM {database}.orders
    WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
)
ORDER BY order_id, occurred_at DESC, toString(event_id) DESC
LIMIT 1 BY order_id;
