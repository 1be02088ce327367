import type { KafkaMessage } from 'kafkajs';
import { contentTypeHeader, decodeEvent } from '@crm/events';

export interface ErasureRequestOutcome {
  erased: number;
  /** Requests that are not valid crm.erasure-requests.v1 events, by rejection code. */
  rejected: { code: string; offset: string }[];
}

/**
 * Erasure requests from crm.erasure-requests.v1 (docs/PRIVACY.md), one after the other, in
 * offset order: each valid one is erased (`erase` resolves once the customer is erased and
 * announced); an invalid one cannot be acted on and is reported by code, never by content.
 * A failed erasure throws, so the batch is not committed and the request is retried.
 */
export async function handleErasureRequests(messages: readonly Pick<KafkaMessage, 'value' | 'headers' | 'offset'>[], erase: (customerId: string) => Promise<void>): Promise<ErasureRequestOutcome> {
  const outcome: ErasureRequestOutcome = { erased: 0, rejected: [] };
  for (const message of messages) {
    const decoded = decodeEvent('erasure-requests', message.value ?? Buffer.alloc(0), contentTypeHeader(message.headers));
    if (!decoded.ok) {
      outcome.rejected.push({ code: decoded.rejection.code, offset: message.offset });
      continue;
    }
    await erase(decoded.event.customer_id);
    outcome.erased++;
  }
  return outcome;
}
