-- Raw order events: one row per order state (each event), de-duplicated on event_id.
-- A re-delivered event has the same sort key and collapses on merge; every reader
-- derives the latest state with argMax, which duplicates cannot change.
CREATE TABLE IF NOT EXISTS {database}.orders
(
    event_id        UUID,
    occurred_at     DateTime64(3, 'UTC'),
    schema_version  UInt16,
    order_id        String,
    customer_id     String,
    status          LowCardinality(String),
    placed_at       DateTime64(3, 'UTC'),
    total           Decimal(18, 4),
    refunded_amount Decimal(18, 4),
    currency        LowCardinality(String),
    -- Units of the reporting currency per unit of `currency`, fixed when the event was accepted.
    fx_rate         Decimal(18, 8),
    channel         LowCardinality(String),
    payment_method  LowCardinality(String),
    items           Array(Tuple(sku String, category String, quantity UInt32, unit_price Decimal(18, 4))),
    source_partition UInt32,
    source_offset   UInt64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, order_id, event_id);

-- The state of every order as known at `as_of` (point-in-time correct, so history can be
-- re-scored): its latest event by occurred_at, then event_id (as text), among those at or before as_of.
CREATE VIEW IF NOT EXISTS {database}.order_states_as_of AS
SELECT
    order_id,
    argMax(customer_id, state_key)     AS customer_id,
    argMax(status, state_key)          AS status,
    argMax(placed_at, state_key)       AS placed_at,
    argMax(total, state_key)           AS total,
    argMax(refunded_amount, state_key) AS refunded_amount,
    argMax(currency, state_key)        AS currency,
    argMax(fx_rate, state_key)         AS fx_rate,
    argMax(channel, state_key)         AS channel,
    argMax(payment_method, state_key)  AS payment_method,
    argMax(items, state_key)           AS items,
    min(occurred_at)                   AS first_event_at,
    max(occurred_at)                   AS last_event_at
FROM
(
    SELECT *, (occurred_at, toString(event_id)) AS state_key
    FROM {database}.orders
    WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
)
GROUP BY order_id;

-- Purchases per DESIGN.md as known at `as_of`: placed at or before as_of, not cancelled, not fully
-- refunded (a free order still counts); value = total - refunded_amount in the reporting currency.
CREATE VIEW IF NOT EXISTS {database}.purchases_as_of AS
SELECT
    order_id,
    customer_id,
    placed_at,
    CAST(round(toDecimal128(total - refunded_amount, 4) * fx_rate, 4) AS Decimal(38, 4)) AS value
FROM {database}.order_states_as_of(as_of = {as_of:DateTime64(3, 'UTC')})
WHERE placed_at <= {as_of:DateTime64(3, 'UTC')}
  AND status != 'cancelled'
  AND (refunded_amount < total OR total = 0);

-- Analysts' shortcuts: the same definitions as of now.
CREATE VIEW IF NOT EXISTS {database}.orders_current AS
SELECT * FROM {database}.order_states_as_of(as_of = now64(3));

CREATE VIEW IF NOT EXISTS {database}.purchases AS
SELECT * FROM {database}.purchases_as_of(as_of = now64(3));
