import { rejectionFromZod, SCHEMAS, type EventsByName } from '@crm/events';
import { INPUT_STREAMS, type InputStream } from '@crm/kafka';

export type ImportStream = InputStream;
export const IMPORT_STREAMS: readonly ImportStream[] = INPUT_STREAMS;

/**
 * A source unit (a row, or an order's rows) as an event and its Kafka key, or why it is skipped:
 * `reason` is the same for every unit skipped for one cause (the report groups by it), `detail`
 * says what this unit held.
 */
export type Mapped<E> = { ok: true; event: E; key: string } | { ok: false; reason: string; detail?: string };

export const skip = (reason: string, detail?: string): { ok: false; reason: string; detail?: string } =>
  detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };

/** The candidate checked by the validator ingest uses, so what we send is what ingest accepts. */
export function validated<N extends ImportStream>(stream: N, candidate: unknown, key: string): Mapped<EventsByName[N]> {
  const parsed = SCHEMAS[stream].json.safeParse(candidate);
  if (parsed.success) return { ok: true, event: parsed.data as EventsByName[N], key };
  const rejection = rejectionFromZod(parsed.error, candidate);
  // items.3.quantity and items.0.quantity are one reason.
  const path = rejection.path.replace(/\.\d+(?=\.|$)/g, '[]');
  return skip(`${rejection.code}${path ? ` at ${path}` : ''}`, rejection.message);
}
