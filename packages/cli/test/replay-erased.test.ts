import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { namesErased, replayTarget } from '../src/dead-letters/replay-message.js';

const list = { customers: new Set(['c-erased']), anonymous: new Set(['a-erased']) };
const letter = (key: string | null, value: string): KafkaMessage =>
  ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), offset: '7', timestamp: '0', attributes: 0, headers: { 'dlq.source.topic': Buffer.from('crm.orders.v1'), 'dlq.reason.code': Buffer.from('missing_fx_rate') } }) as KafkaMessage;

describe('dead letters of erased customers', () => {
  it('are recognised by key, or by a JSON value naming an erased customer or device, however broken the rest is', () => {
    expect(namesErased(letter('c-erased', 'not json'), list)).toBe(true);
    expect(namesErased(letter('a-erased', ''), list)).toBe(true);
    expect(namesErased(letter('other-key', JSON.stringify({ customer_id: 'c-erased', total: -1 })), list)).toBe(true);
    expect(namesErased(letter(null, JSON.stringify({ anonymous_id: 'a-erased' })), list)).toBe(true);
    expect(namesErased(letter('c-other', JSON.stringify({ customer_id: 'c-other' })), list)).toBe(false);
    expect(namesErased(letter('c-other', '[1,2]'), list)).toBe(false);
  });

  it('are refused as erased by the replay; others replay as before', () => {
    const inputs = new Set(['crm.orders.v1']);
    expect(replayTarget(letter('c-erased', '{}'), 0, undefined, inputs, list)).toEqual({ refused: 'erased' });
    expect(replayTarget(letter('c-other', '{}'), 0, undefined, inputs, list)).toMatchObject({ topic: 'crm.orders.v1' });
  });
});
