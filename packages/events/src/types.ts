/**
 * Compile-time shapes of the events in their JSON form. The schemas in
 * `schemas/` are the source of truth; test/types.test.ts checks these
 * interfaces name exactly the schema's fields.
 */
type Envelope = { event_id: string; occurred_at: string; schema_version: 1 };

export type OrderStatus = 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled' | 'refunded';

export interface OrderEvent extends Envelope {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  placed_at: string;
  total: number;
  refunded_amount: number;
  currency: string;
  channel: 'web' | 'app' | 'store' | 'marketplace';
  payment_method: 'cash' | 'prepaid' | 'credit';
  items: { sku: string; category: string; quantity: number; unit_price: number }[];
}

export type ClickType = 'page_view' | 'product_view' | 'search' | 'add_to_cart' | 'remove_from_cart' | 'checkout_started' | 'login';

export interface ClickEvent extends Envelope {
  anonymous_id: string;
  customer_id: string | null;
  session_id: string;
  type: ClickType;
  url: string | null;
  sku: string | null;
  category: string | null;
  query: string | null;
  referrer: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
}

export interface TicketEvent extends Envelope {
  ticket_id: string;
  customer_id: string;
  status: 'opened' | 'pending' | 'resolved' | 'closed' | 'reopened';
  category: 'complaint' | 'question' | 'return' | 'delivery' | 'payment' | 'technical' | 'other';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  channel: 'email' | 'phone' | 'chat' | 'social' | 'web';
}

export interface SurveyEvent extends Envelope {
  response_id: string;
  customer_id: string;
  kind: 'csat' | 'nps' | 'ces';
  score: number;
  scale_max: number;
  expectation: number | null;
  order_id: string | null;
  ticket_id: string | null;
  comment: string | null;
}

export interface SegmentChangeEvent {
  event_id: string;
  customer_id: string;
  segment_type: 'rfm' | 'lifecycle' | 'tier' | 'risk';
  from: string | null;
  to: string;
  as_of: string;
  changed_at: string;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  rfm_segment: string | null;
  lifecycle_stage: string | null;
  value_tier: string | null;
  churn_probability: number | null;
  clv_12m: number | null;
}

export type RiskDriver = 'recency_overdue' | 'open_complaint' | 'detractor' | 'low_csat' | 'engagement_drop';

export interface CustomerAtRiskEvent {
  event_id: string;
  customer_id: string;
  churn_probability: number;
  value_tier: 'lead' | 'iron' | 'gold' | 'platinum';
  clv_12m: number;
  drivers: RiskDriver[];
  detected_at: string;
}

export interface CustomerErasedEvent {
  event_id: string;
  customer_id: string;
  erased_at: string;
}

export interface ErasureRequestEvent {
  event_id: string;
  customer_id: string;
  requested_at: string;
}

export interface EventsByName {
  orders: OrderEvent;
  clicks: ClickEvent;
  tickets: TicketEvent;
  surveys: SurveyEvent;
  'segment-changes': SegmentChangeEvent;
  'customer-at-risk': CustomerAtRiskEvent;
  'customer-erased': CustomerErasedEvent;
  'erasure-requests': ErasureRequestEvent;
}
