import type { OrderEvent, OrderStatus } from '@crm/events';
import { SCHEMAS, nameBasedUuid } from '@crm/events';

/** Our field → the file's column; only customer_id, placed_at and total are required. */
export type ColumnMapping = Partial<Record<ImportField, string>>;
export const IMPORT_FIELDS = ['customer_id', 'order_id', 'placed_at', 'total', 'refunded_amount', 'status', 'currency', 'channel', 'payment_method'] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];
const REQUIRED: readonly ImportField[] = ['customer_id', 'placed_at', 'total'];

export interface ImportDefaults {
  currency: string;
  channel: OrderEvent['channel'];
  paymentMethod: OrderEvent['payment_method'];
  status: OrderStatus;
}

/** `customer_id=Customer,total=Amount` → mapping; unknown fields are an error naming them. */
export function parseMapping(text: string | undefined): ColumnMapping {
  const mapping: ColumnMapping = {};
  if (!text) return mapping;
  for (const pair of text.split(',')) {
    const [field, column] = pair.split('=').map((s) => s.trim());
    if (!field || !column || !(IMPORT_FIELDS as readonly string[]).includes(field)) {
      throw new Error(`--map: "${pair}" is not field=column with a field among ${IMPORT_FIELDS.join(', ')}`);
    }
    mapping[field as ImportField] = column;
  }
  return mapping;
}

/** ISO-8601 (an instant without offset is taken as UTC) or yyyyMMdd (midnight UTC). */
export function parseDate(text: string): string | undefined {
  const t = text.trim();
  if (/^\d{8}$/.test(t)) {
    const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T00:00:00Z`;
    return Number.isNaN(Date.parse(iso)) ? undefined : new Date(iso).toISOString();
  }
  if (/^\d{4}-\d\d-\d\d$/.test(t)) return Number.isNaN(Date.parse(`${t}T00:00:00Z`)) ? undefined : `${t}T00:00:00.000Z`;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t.replace(' ', 'T')}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export type RowOutcome = { ok: true; event: OrderEvent } | { ok: false; reason: string };

/**
 * One file row to an order event, validated by the same schema ingest uses.
 * Without an order id, the id is derived from the row's content and its line,
 * so importing the same file twice produces the same events (de-duplicated).
 */
export function rowToOrder(row: Record<string, string>, line: number, mapping: ColumnMapping, defaults: ImportDefaults): RowOutcome {
  const get = (field: ImportField) => {
    const column = mapping[field] ?? field;
    const value = row[column];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  for (const field of REQUIRED) if (get(field) === undefined) return { ok: false, reason: `missing ${field} (column ${mapping[field] ?? field})` };
  const placedAt = parseDate(get('placed_at')!);
  if (placedAt === undefined) return { ok: false, reason: `placed_at: not a date: ${get('placed_at')}` };
  const total = Number(get('total'));
  const refunded = Number(get('refunded_amount') ?? 0);
  const customerId = get('customer_id')!;
  const orderId = get('order_id') ?? `import-${nameBasedUuid(customerId, placedAt, String(total), String(line))}`;
  const status = (get('status') ?? defaults.status) as OrderStatus;
  const candidate = {
    event_id: nameBasedUuid('order-import', orderId, status, placedAt, String(total), String(refunded)),
    occurred_at: placedAt,
    schema_version: 1,
    order_id: orderId,
    customer_id: customerId,
    status,
    placed_at: placedAt,
    total,
    refunded_amount: refunded,
    currency: get('currency') ?? defaults.currency,
    channel: get('channel') ?? defaults.channel,
    payment_method: get('payment_method') ?? defaults.paymentMethod,
    items: [],
  };
  const parsed = SCHEMAS.orders.json.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join('.')}: ${issue.message}` };
  }
  return { ok: true, event: parsed.data as OrderEvent };
}
