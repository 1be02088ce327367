import { describe, expect, it } from 'vitest';
import { groupId, topicNames } from '../src/index.js';

describe('topic names', () => {
  it('are the contract names without a namespace, and prefixed with one', () => {
    expect(topicNames().orders).toBe('crm.orders.v1');
    expect(topicNames().deadLetter).toBe('crm.dead-letter.v1');
    expect(topicNames('t1').segmentChanges).toBe('t1.crm.segment-changes.v1');
    expect(groupId('t1', 'crm-ingest')).toBe('t1.crm-ingest');
    expect(groupId('', 'crm-ingest')).toBe('crm-ingest');
  });
});
