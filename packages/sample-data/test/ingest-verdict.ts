import { CONTENT_TYPE_JSON, decodeEvent, type RejectionCode } from '@crm/events';
import type { LoadMessage } from '../src/index.js';

export interface IngestLimits {
  maxMessageBytes?: number;
  maxFutureSkewMs?: number;
  now?: number;
  /** Currencies with a rate to the reporting one (CRM_FX_RATES plus the reporting currency). */
  ratedCurrencies?: readonly string[];
}

/**
 * What ingest does with a message, as services/ingest/src/decode-message.ts and
 * streams.ts decide it: the size limit, then decodeEvent, then the clock skew,
 * then the FX rate of an order (defaults: ingest's, with EUR rated). The
 * Kafka tests check the real service; this keeps the unit test self-contained.
 */
export function ingestVerdict(message: Pick<LoadMessage, 'topic' | 'value' | 'headers'>, limits: IngestLimits = {}): RejectionCode | 'accepted' {
  const { maxMessageBytes = 1_048_576, maxFutureSkewMs = 300_000, now = Date.now(), ratedCurrencies = ['USD', 'EUR'] } = limits;
  if (message.value.length > maxMessageBytes) return 'message_too_large';
  const contentType = (message.headers['content-type'] ?? CONTENT_TYPE_JSON).split(';')[0]!.trim().toLowerCase();
  const decoded = decodeEvent(message.topic, message.value, contentType);
  if (!decoded.ok) return decoded.rejection.code;
  if (Date.parse(decoded.event.occurred_at) > now + maxFutureSkewMs) return 'timestamp_out_of_range';
  if (message.topic === 'orders' && !ratedCurrencies.includes((decoded.event as { currency: string }).currency)) return 'missing_fx_rate';
  return 'accepted';
}
