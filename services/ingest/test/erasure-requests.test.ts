import { describe, expect, it } from 'vitest';
import { encodeEvent } from '@crm/events';
import { handleErasureRequests } from '../src/erasure-requests.js';

const request = (customer: string) => ({ event_id: '0b7c8d2e-1f4a-4c3b-9d2e-7a6b5c4d3e01', customer_id: customer, requested_at: '2026-05-01T00:00:00.000Z' });

describe('handleErasureRequests', () => {
  it('erases each valid request in order, JSON or Avro, and reports invalid ones by code and offset only', async () => {
    const erased: string[] = [];
    const outcome = await handleErasureRequests(
      [
        { value: Buffer.from(JSON.stringify(request('c-1'))), headers: { 'content-type': 'application/json' }, offset: '0' },
        { value: Buffer.from('{"customer_id": "c-secret"}'), headers: { 'content-type': 'application/json' }, offset: '1' },
        { value: encodeEvent('erasure-requests', request('c-2'), 'avro'), headers: { 'content-type': 'application/avro' }, offset: '2' },
      ],
      async (id) => void erased.push(id),
    );
    expect(erased).toEqual(['c-1', 'c-2']);
    expect(outcome.erased).toBe(2);
    expect(outcome.rejected).toEqual([{ code: expect.any(String), offset: '1' }]);
    expect(JSON.stringify(outcome)).not.toContain('c-secret');
  });

  it('stops at a failed erasure, so the batch is not committed and the request comes again', async () => {
    const value = Buffer.from(JSON.stringify(request('c-1')));
    await expect(handleErasureRequests([{ value, headers: {}, offset: '0' }], async () => Promise.reject(new Error('ClickHouse away')))).rejects.toThrow('ClickHouse away');
  });
});
