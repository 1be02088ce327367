-- Engagement and service signals on the profile (definitions: docs/METRICS.md).
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS clicks_30d UInt64 AFTER avg_order_value;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS sessions_30d UInt64 AFTER clicks_30d;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS last_click_at Nullable(DateTime64(3, 'UTC')) AFTER sessions_30d;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS open_tickets UInt64 AFTER last_click_at;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS complaints_90d UInt64 AFTER open_tickets;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS csat Nullable(Float64) AFTER complaints_90d;
ALTER TABLE {database}.customer_profiles ADD COLUMN IF NOT EXISTS last_nps Nullable(UInt8) AFTER csat;
