import { contentTypeHeader, decodeEvent, type MessageHeaders, type SurveyEvent, type TicketEvent } from '@crm/events';
import { DETRACTOR_MAX_NPS, OPEN_TICKET_STATUSES } from './signals.js';

const OPEN = new Set<string>(OPEN_TICKET_STATUSES);

/** The input streams whose events can change a customer's segments or risk at once. */
export const RESCORING_STREAMS = ['orders', 'tickets', 'surveys'] as const;
export type RescoringStream = (typeof RESCORING_STREAMS)[number];

export interface InputMessage {
  value: Buffer | null;
  headers?: MessageHeaders | undefined;
  /** Kafka's message timestamp, epoch milliseconds as text. */
  timestamp: string;
}

export interface ChangedCustomers {
  /** Every customer with a valid event: each is re-scored. */
  customers: string[];
  /** Those whose event could be a real-time at-risk alert (a complaint still open, a detractor's NPS answer): judged at once. */
  alerts: string[];
}

/**
 * Whether an event could raise an alert on the real-time path. Only a
 * pre-selection: realtimeRiskSql decides from the ticket's and the answers'
 * current state (a late 'opened' event of a ticket since resolved alerts nobody).
 */
function mayAlert(stream: RescoringStream, event: object): boolean {
  if (stream === 'tickets') {
    const ticket = event as TicketEvent;
    return ticket.category === 'complaint' && OPEN.has(ticket.status);
  }
  if (stream === 'surveys') {
    const answer = event as SurveyEvent;
    return answer.kind === 'nps' && answer.score <= DETRACTOR_MAX_NPS;
  }
  return false;
}

/**
 * The customers whose valid events are in these messages and newer than
 * `coveredUntil` (the newest full run already counted anything older).
 * Malformed messages are ignored here: ingest dead-letters them.
 */
export function changedCustomers(stream: RescoringStream, messages: readonly InputMessage[], coveredUntil: number): ChangedCustomers {
  const customers = new Set<string>();
  const alerts = new Set<string>();
  for (const message of messages) {
    if (Number(message.timestamp) <= coveredUntil || message.value === null) continue;
    const decoded = decodeEvent(stream, message.value, contentTypeHeader(message.headers));
    if (!decoded.ok) continue;
    customers.add(decoded.event.customer_id);
    if (mayAlert(stream, decoded.event)) alerts.add(decoded.event.customer_id);
  }
  return { customers: [...customers], alerts: [...alerts] };
}
