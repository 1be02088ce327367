import { contentTypeHeader, decodeEvent, type MessageHeaders } from '@crm/events';

/** The input streams whose events can change a customer's segments or risk at once. */
export const RESCORING_STREAMS = ['orders', 'tickets', 'surveys'] as const;
export type RescoringStream = (typeof RESCORING_STREAMS)[number];

export interface InputMessage {
  value: Buffer | null;
  headers?: MessageHeaders | undefined;
  /** Kafka's message timestamp, epoch milliseconds as text. */
  timestamp: string;
}

/**
 * The customers whose valid events are in these messages and newer than
 * `coveredUntil` (the newest full run already counted anything older).
 * Malformed messages are ignored here: ingest dead-letters them.
 */
export function changedCustomers(stream: RescoringStream, messages: readonly InputMessage[], coveredUntil: number): string[] {
  const customers = new Set<string>();
  for (const message of messages) {
    if (Number(message.timestamp) <= coveredUntil || message.value === null) continue;
    const decoded = decodeEvent(stream, message.value, contentTypeHeader(message.headers));
    if (decoded.ok) customers.add(decoded.event.customer_id);
  }
  return [...customers];
}
