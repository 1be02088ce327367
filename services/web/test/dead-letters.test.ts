import { expect, it } from 'vitest';
import { deadLetterFacts, DeadLetterTally } from '../src/dead-letters.js';

const headers = (code: string, at: string, extra: Record<string, string> = {}) => ({
  'dlq.source.topic': Buffer.from('crm.orders.v1'), 'dlq.reason.code': Buffer.from(code), 'dlq.reason.path': Buffer.from('order_id'),
  'dlq.reason.message': Buffer.from('customer jane@example.com: bad'), 'dlq.failed_at': Buffer.from(at),
  ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, Buffer.from(v)])),
});

it('takes topic, code, field, time and the original size from the dlq headers, and nothing of the message', () => {
  const facts = deadLetterFacts(headers('missing_field', '2026-12-01T10:00:00.000Z'), Buffer.from('{"customer_id":"jane"}'));
  expect(facts).toEqual({ topic: 'crm.orders.v1', reason: 'missing_field', path: 'order_id', failedAt: '2026-12-01T10:00:00.000Z', bytes: 22 });
  // A cut-down letter reports the original's length.
  const cut = deadLetterFacts(headers('message_too_large', '2026-12-01T10:00:00.000Z', { 'dlq.truncated': 'true', 'dlq.original.value_bytes': '5000000' }), Buffer.alloc(10));
  expect(cut.bytes).toBe(5_000_000);
  expect(JSON.stringify(facts)).not.toContain('jane');
});

it('counts each partition offset once, so a consumer reading from the start again counts nothing twice', () => {
  const tally = new DeadLetterTally(2);
  const letter = (code: string, minute: number) => deadLetterFacts(headers(code, `2026-12-01T10:0${minute}:00.000Z`), Buffer.alloc(1));
  tally.add(0, '0', letter('invalid_encoding', 1));
  tally.add(0, '1', letter('missing_field', 2));
  tally.add(1, '0', letter('invalid_encoding', 3));
  // A restarted consumer reads partition 0 from its start.
  tally.add(0, '0', letter('invalid_encoding', 1));
  tally.add(0, '1', letter('missing_field', 2));
  const summary = tally.summary();
  expect(summary.letters).toBe(3);
  expect(summary.byReason).toEqual([
    { topic: 'crm.orders.v1', reason: 'invalid_encoding', letters: 2, lastAt: '2026-12-01T10:03:00.000Z' },
    { topic: 'crm.orders.v1', reason: 'missing_field', letters: 1, lastAt: '2026-12-01T10:02:00.000Z' },
  ]);
  expect(summary.recent.map((r) => r.failedAt)).toEqual(['2026-12-01T10:03:00.000Z', '2026-12-01T10:02:00.000Z']);
});
