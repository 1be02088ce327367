-- Raw clicks, tickets and surveys: one row per event, de-duplicated on event_id
-- (the sort key ends with it; readers count with uniqExact or take argMax states).
CREATE TABLE IF NOT EXISTS {database}.clicks
(
    event_id       UUID,
    occurred_at    DateTime64(3, 'UTC'),
    schema_version UInt16,
    anonymous_id   String,
    customer_id    Nullable(String),
    session_id     String,
    type           LowCardinality(String),
    url            Nullable(String),
    sku            Nullable(String),
    category       Nullable(String),
    query          Nullable(String),
    referrer       Nullable(String),
    utm_source     Nullable(String),
    utm_medium     Nullable(String),
    utm_campaign   Nullable(String),
    source_partition UInt32,
    source_offset  UInt64,
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (anonymous_id, occurred_at, event_id);

-- Identity stitching: every click that carries both ids. An anonymous id belongs to
-- the customer of its earliest link (then lowest event_id), so a shared device is
-- attributed deterministically.
CREATE TABLE IF NOT EXISTS {database}.identity_links
(
    anonymous_id String,
    customer_id  String,
    linked_at    DateTime64(3, 'UTC'),
    event_id     UUID
)
ENGINE = ReplacingMergeTree
ORDER BY (anonymous_id, customer_id, event_id);

CREATE TABLE IF NOT EXISTS {database}.tickets
(
    event_id       UUID,
    occurred_at    DateTime64(3, 'UTC'),
    schema_version UInt16,
    ticket_id      String,
    customer_id    String,
    status         LowCardinality(String),
    category       LowCardinality(String),
    priority       LowCardinality(String),
    channel        LowCardinality(String),
    source_partition UInt32,
    source_offset  UInt64,
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, ticket_id, event_id);

CREATE TABLE IF NOT EXISTS {database}.surveys
(
    event_id       UUID,
    occurred_at    DateTime64(3, 'UTC'),
    schema_version UInt16,
    response_id    String,
    customer_id    String,
    kind           LowCardinality(String),
    score          UInt8,
    scale_max      UInt8,
    expectation    Nullable(UInt8),
    order_id       Nullable(String),
    ticket_id      Nullable(String),
    comment        Nullable(String),
    source_partition UInt32,
    source_offset  UInt64,
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, response_id, event_id);

-- Who owns each anonymous id as of `as_of`.
CREATE VIEW IF NOT EXISTS {database}.identity_owners_as_of AS
SELECT anonymous_id, argMin(customer_id, (linked_at, toString(event_id))) AS customer_id, min(linked_at) AS first_linked_at
FROM {database}.identity_links
WHERE linked_at <= {as_of:DateTime64(3, 'UTC')}
GROUP BY anonymous_id;

-- Every click at or before `as_of` with the customer it counts for: its own
-- customer_id, or the owner of its anonymous id (earlier anonymous clicks included).
CREATE VIEW IF NOT EXISTS {database}.attributed_clicks_as_of AS
SELECT
    c.event_id,
    c.occurred_at,
    c.session_id,
    c.type,
    coalesce(c.customer_id, o.customer_id) AS customer_id
FROM (SELECT * FROM {database}.clicks WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')} LIMIT 1 BY event_id) AS c
LEFT JOIN {database}.identity_owners_as_of(as_of = {as_of:DateTime64(3, 'UTC')}) AS o ON o.anonymous_id = c.anonymous_id
WHERE coalesce(c.customer_id, o.customer_id) IS NOT NULL
SETTINGS join_use_nulls = 1;

-- Each ticket's state as known at `as_of` (latest event by occurred_at, then event_id).
CREATE VIEW IF NOT EXISTS {database}.ticket_states_as_of AS
SELECT
    ticket_id,
    argMax(customer_id, state_key) AS customer_id,
    argMax(status, state_key)      AS status,
    argMax(category, state_key)    AS category,
    argMax(priority, state_key)    AS priority,
    min(occurred_at)               AS opened_at,
    max(occurred_at)               AS updated_at
FROM (SELECT *, (occurred_at, toString(event_id)) AS state_key FROM {database}.tickets WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')})
GROUP BY ticket_id;

-- Each survey response as known at `as_of` (a corrected response replaces the earlier one).
CREATE VIEW IF NOT EXISTS {database}.survey_responses_as_of AS
SELECT
    response_id,
    argMax(customer_id, state_key) AS customer_id,
    argMax(kind, state_key)        AS kind,
    argMax(score, state_key)       AS score,
    argMax(scale_max, state_key)   AS scale_max,
    argMax(expectation, state_key) AS expectation,
    argMax(occurred_at, state_key) AS answered_at
FROM (SELECT *, (occurred_at, toString(event_id)) AS state_key FROM {database}.surveys WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')})
GROUP BY response_id;
