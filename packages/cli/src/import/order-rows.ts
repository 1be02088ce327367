import { nameBasedUuid, type OrderEvent, type OrderStatus } from '@crm/events';
import { skip, validated, type Mapped } from './mapped.js';
import { NO_CATEGORY, columnsOf, type OrderField, type OrderPreset } from './presets.js';
import { arrayAt, parseAmount, parseDate, parseWhole, roundAmount, textAt, type SourceRow } from './values.js';

export interface ImportDefaults {
  currency: string;
  channel: OrderEvent['channel'];
  paymentMethod: OrderEvent['payment_method'];
}

/** The rows that make one order: one row, or an order's consecutive line-item rows. */
export interface RowGroup {
  /** The line of the group's first row in the file. */
  line: number;
  rows: SourceRow[];
  /** Rows beyond what one order can hold (the schema's 1 000 items) are counted, not kept. */
  dropped: number;
}

/**
 * The id of an imported event: the same content from the same source id is the same event, so a
 * second import of a file is de-duplicated by ingest, and a changed order (a later export with a
 * refund) is a new state of it.
 */
export function importEventId(stream: string, sourceId: string, content: object): string {
  return nameBasedUuid('crm-import', stream, sourceId, JSON.stringify(content));
}

/** One order's rows to its order event, by the preset's rules, validated as ingest validates. */
export function groupToOrder(group: RowGroup, preset: OrderPreset, defaults: ImportDefaults): Mapped<OrderEvent> {
  const column = (field: OrderField) => columnsOf(preset, field);
  // Order-level fields are on the first row that has them (Shopify: the order's first row only).
  const get = (field: OrderField): string | undefined => {
    for (const name of column(field)) {
      for (const row of group.rows) {
        const value = textAt(row, name);
        if (value !== undefined && !(field === 'customer_id' && preset.noCustomer?.includes(value))) return value;
      }
    }
    return undefined;
  };
  const missing = (field: OrderField) => skip(`missing ${field} (column ${column(field).join(' or ') || 'none'})`);
  const date = (field: OrderField) => {
    const text = get(field);
    return text === undefined ? undefined : (parseDate(text, preset.slashDates) ?? null);
  };

  if (group.dropped > 0) return skip('more than 1000 line items in one order', `${group.rows.length + group.dropped} rows`);
  const customerId = get('customer_id');
  if (customerId === undefined) return skip(preset.noCustomerReason);
  const placedAt = date('placed_at');
  if (placedAt === undefined) return missing('placed_at');
  if (placedAt === null) return skip('placed_at is not a date', get('placed_at'));

  const sourceOrderId = get('order_id');
  if (sourceOrderId === undefined && preset.grouping.by === 'consecutive') return missing('order_id');
  const cancellation = preset.cancellationPrefix !== undefined && sourceOrderId?.startsWith(preset.cancellationPrefix) === true;

  let status: OrderStatus;
  const rawStatus = get('status');
  if (preset.statuses !== undefined && rawStatus !== undefined) {
    const mapped = preset.statuses[rawStatus.toLowerCase()];
    if (mapped === undefined) return skip(`unknown status (not one of ${Object.keys(preset.statuses).join(', ')})`, rawStatus);
    status = mapped;
  } else if (preset.defaultStatus !== undefined) status = preset.defaultStatus;
  else return missing('status');
  const cancelledAt = date('cancelled_at');
  if (cancelledAt === null) return skip('cancelled_at is not a date', get('cancelled_at'));
  if (cancelledAt !== undefined || cancellation) status = 'cancelled';

  const items: OrderEvent['items'] = [];
  const spec = preset.items;
  if (spec !== undefined) {
    const sources = spec.from === 'rows' ? group.rows : arrayAt(group.rows[0]!, spec.from.array);
    for (const source of sources) {
      const sku = spec.sku.map((c) => textAt(source, c)).find((v) => v !== undefined);
      const quantityText = textAt(source, spec.quantity);
      const priceText = textAt(source, spec.unitPrice);
      if (sku === undefined && quantityText === undefined && priceText === undefined) continue;
      const quantity = quantityText === undefined ? undefined : parseWhole(quantityText);
      const unitPrice = priceText === undefined ? undefined : parseAmount(priceText);
      if (sku === undefined) return skip(`line item without ${spec.sku.join(' or ')}`);
      if (quantity === undefined) return skip(`line item ${spec.quantity} is not a whole number`, quantityText);
      if (unitPrice === undefined) return skip(`line item ${spec.unitPrice} is not an amount`, priceText);
      // A cancellation invoice lists what it takes back as negative quantities.
      items.push({
        sku,
        category: (spec.category === undefined ? undefined : textAt(source, spec.category)) ?? NO_CATEGORY,
        quantity: cancellation ? Math.abs(quantity) : quantity,
        unit_price: roundAmount(unitPrice),
      });
    }
  }

  let total: number | undefined;
  if (preset.totalFromItems) total = roundAmount(items.reduce((sum, i) => sum + i.quantity * i.unit_price, 0));
  else {
    const text = get('total');
    if (text === undefined) return missing('total');
    total = parseAmount(text);
    if (total === undefined) return skip('total is not an amount', text);
  }
  let refunded = 0;
  if (preset.refunds !== undefined) {
    refunded = roundAmount(arrayAt(group.rows[0]!, preset.refunds.array).reduce((sum, r) => sum + Math.abs(parseAmount(textAt(r, preset.refunds!.amount) ?? '0') ?? 0), 0));
  } else {
    const text = get('refunded_amount');
    const amount = text === undefined ? 0 : parseAmount(text);
    if (amount === undefined) return skip('refunded_amount is not an amount', text);
    refunded = Math.abs(amount);
  }
  // A refunded order whose export names no amount was refunded in full.
  if (status === 'refunded' && refunded === 0) refunded = total;

  let occurredAt = placedAt;
  for (const name of column('occurred_at')) {
    const text = group.rows.map((r) => textAt(r, name)).find((v) => v !== undefined);
    const at = text === undefined ? undefined : parseDate(text, preset.slashDates);
    if (at !== undefined && at > occurredAt) occurredAt = at;
  }
  if (cancelledAt !== undefined && cancelledAt !== null && cancelledAt > occurredAt) occurredAt = cancelledAt;

  const orderId = sourceOrderId ?? `import-${nameBasedUuid(customerId, placedAt, String(total), String(group.line))}`;
  const content = {
    occurred_at: occurredAt,
    schema_version: 1,
    order_id: orderId,
    customer_id: customerId,
    status,
    placed_at: placedAt,
    total,
    refunded_amount: refunded,
    currency: get('currency')?.toUpperCase() ?? defaults.currency,
    channel: valueOf(get('channel'), preset.channels, defaults.channel),
    payment_method: valueOf(get('payment_method'), preset.paymentMethods, defaults.paymentMethod),
    items,
  };
  return validated('orders', { event_id: importEventId('orders', orderId, content), ...content }, customerId);
}

/** A preset's value map decides (anything unlisted gets the default); without one, the file's value is ours. */
function valueOf<T extends string>(raw: string | undefined, map: Readonly<Record<string, T>> | undefined, fallback: T): string {
  if (raw === undefined) return fallback;
  if (map === undefined) return raw;
  return map[raw.toLowerCase()] ?? fallback;
}
