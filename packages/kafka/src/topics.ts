/** Topic names are part of the contract (DESIGN.md); a namespace prefix isolates test runs on one broker. */
export const TOPIC_BASE_NAMES = {
  orders: 'crm.orders.v1',
  clicks: 'crm.clicks.v1',
  tickets: 'crm.tickets.v1',
  surveys: 'crm.surveys.v1',
  deadLetter: 'crm.dead-letter.v1',
  segmentChanges: 'crm.segment-changes.v1',
  customerAtRisk: 'crm.customer-at-risk.v1',
  customerErased: 'crm.customer-erased.v1',
  erasureRequests: 'crm.erasure-requests.v1',
  /**
   * Internal: scoring's notice that a commit mark was written (its changed_at, nothing about any
   * customer), so the publisher wakes at once instead of at its next poll (docs/SCORING.md).
   */
  outboxCommits: 'crm.outbox-commits.v1',
} as const;

export type TopicKey = keyof typeof TOPIC_BASE_NAMES;

/** The four input streams platforms produce to (ingest reads them, import writes them, replay may re-inject into them). */
export const INPUT_STREAMS = ['orders', 'clicks', 'tickets', 'surveys'] as const;
export type InputStream = (typeof INPUT_STREAMS)[number];
export type TopicNames = { readonly [K in TopicKey]: string };

export function topicNames(namespace = ''): TopicNames {
  const prefix = namespace === '' ? '' : `${namespace}.`;
  const entries = Object.entries(TOPIC_BASE_NAMES).map(([key, name]) => [key, `${prefix}${name}`]);
  return Object.freeze(Object.fromEntries(entries)) as TopicNames;
}
