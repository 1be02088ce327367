import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentTypeOf, encodeEvent, type SurveyEvent, type TicketEvent } from '@crm/events';
import { changedCustomers, type InputMessage } from '../src/changed-customers.js';

const NOW = Date.parse('2026-06-30T12:00:00Z');
const envelope = (customer: string) => ({ event_id: randomUUID(), occurred_at: new Date(NOW).toISOString(), schema_version: 1 as const, customer_id: customer });
const ticket = (customer: string, status: TicketEvent['status'], category: TicketEvent['category']): TicketEvent => ({
  ...envelope(customer), ticket_id: randomUUID(), status, category, priority: 'high', channel: 'email',
});
const answer = (customer: string, kind: SurveyEvent['kind'], score: number, scale_max: number): SurveyEvent => ({
  ...envelope(customer), response_id: randomUUID(), kind, score, scale_max, expectation: null, order_id: null, ticket_id: null, comment: null,
});
const message = (value: Buffer, at = NOW, encoding: 'json' | 'avro' = 'json'): InputMessage => ({
  value, timestamp: String(at), headers: { 'content-type': contentTypeOf(encoding) },
});

describe('which customers an input batch re-scores, and which it judges at once', () => {
  it('pre-selects complaints still open and detractors for the real-time path, in JSON and Avro', () => {
    const tickets = [
      message(encodeEvent('tickets', ticket('open', 'opened', 'complaint'), 'json')),
      message(encodeEvent('tickets', ticket('reopened', 'reopened', 'complaint'), 'avro'), NOW, 'avro'),
      message(encodeEvent('tickets', ticket('pending', 'pending', 'complaint'), 'json')),
      message(encodeEvent('tickets', ticket('resolved', 'resolved', 'complaint'), 'json')),
      message(encodeEvent('tickets', ticket('question', 'opened', 'question'), 'json')),
      // Counted by the last full run already: neither re-scored nor judged.
      message(encodeEvent('tickets', ticket('old', 'opened', 'complaint'), 'json'), NOW - 60_000),
      message(Buffer.from('{"not": "a ticket"}')),
    ];
    const got = changedCustomers('tickets', tickets, NOW - 1000);
    expect(got.customers.sort()).toEqual(['open', 'pending', 'question', 'reopened', 'resolved']);
    expect(got.alerts.sort()).toEqual(['open', 'pending', 'reopened']);

    const answers = [
      message(encodeEvent('surveys', answer('detractor', 'nps', 6, 10), 'json')),
      message(encodeEvent('surveys', answer('passive', 'nps', 7, 10), 'avro'), NOW, 'avro'),
      message(encodeEvent('surveys', answer('unhappy-csat', 'csat', 1, 5), 'json')),
    ];
    const surveyed = changedCustomers('surveys', answers, 0);
    expect(surveyed.customers.sort()).toEqual(['detractor', 'passive', 'unhappy-csat']);
    expect(surveyed.alerts).toEqual(['detractor']);
  });
});
