import type { OrderEvent, OrderStatus } from '@crm/events';
import type { SlashDates } from './values.js';

/**
 * How a platform's order export maps to order events — data only; order-rows.ts applies it.
 * docs/INGEST.md ("Importing history") documents each preset, and packages/cli/test/fixtures
 * holds a sample file of each.
 */
export interface OrderPreset {
  format: 'csv' | 'ndjson';
  /** Our field → the file's column (a dotted path in JSON); a list is tried in order, the first present wins. */
  columns: OrderColumns;
  /** Values that mean "none" in the customer column (WooCommerce writes 0 for a guest). */
  noCustomer?: readonly string[];
  /** Why a row has no customer, in the skip report. */
  noCustomerReason: string;
  /** The file's status (lower case) → ours; a status not listed skips the order, naming it. Absent: every order has `defaultStatus`. */
  statuses?: Readonly<Record<string, OrderStatus>>;
  defaultStatus?: OrderStatus;
  /** One event per row, or consecutive rows with the same key column are one order (a line item each). */
  grouping: { by: 'row' } | { by: 'consecutive'; key: string };
  /** Where items[] comes from: each grouped row is a line item, or an array of objects in the row. */
  items?: { from: 'rows' | { array: string }; sku: readonly string[]; quantity: string; unitPrice: string; category?: string };
  /** The total is the sum of quantity × unit price (invoice lines carry no order total). */
  totalFromItems?: boolean;
  /** refunded_amount is the sum of the absolute amounts of these objects (WooCommerce's refunds[], negative). */
  refunds?: { array: string; amount: string };
  /** An order id with this prefix is a cancellation (Online Retail's `C536379`, with negative quantities). */
  cancellationPrefix?: string;
  /** Channel and payment method from the file's values (lower case); anything else gets the default. */
  channels?: Readonly<Record<string, OrderEvent['channel']>>;
  paymentMethods?: Readonly<Record<string, OrderEvent['payment_method']>>;
  slashDates?: SlashDates;
}

export const ORDER_FIELDS = ['customer_id', 'order_id', 'placed_at', 'occurred_at', 'total', 'refunded_amount', 'status', 'cancelled_at', 'currency', 'channel', 'payment_method'] as const;
export const ITEM_FIELDS = ['item_sku', 'item_quantity', 'item_unit_price', 'item_category'] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];
export type OrderColumns = Partial<Record<OrderField, string | readonly string[]>>;

/** Without a preset: our field names are the columns, statuses are ours, one order per row. */
export const PLAIN_ORDERS: OrderPreset = {
  format: 'csv',
  columns: Object.fromEntries(ORDER_FIELDS.map((f) => [f, f])),
  noCustomerReason: 'no customer_id',
  statuses: { placed: 'placed', paid: 'paid', shipped: 'shipped', delivered: 'delivered', cancelled: 'cancelled', refunded: 'refunded' },
  defaultStatus: 'delivered',
  grouping: { by: 'row' },
};

export const ORDER_PRESETS = {
  /** Shopify admin → Orders → Export (CSV): one row per line item, order fields on an order's first row only. */
  shopify: {
    format: 'csv',
    columns: {
      customer_id: 'Email',
      order_id: 'Name',
      placed_at: 'Created at',
      // The latest moment the export knows of; it has no time for a refund.
      occurred_at: ['Cancelled at', 'Paid at', 'Created at'],
      total: 'Total',
      refunded_amount: 'Refunded Amount',
      status: 'Financial Status',
      cancelled_at: 'Cancelled at',
      currency: 'Currency',
      channel: 'Source',
      payment_method: 'Payment Method',
    },
    noCustomerReason: 'no customer: guest checkout without an email',
    statuses: {
      pending: 'placed',
      authorized: 'placed',
      partially_paid: 'placed',
      paid: 'paid',
      partially_refunded: 'paid',
      refunded: 'refunded',
      voided: 'cancelled',
    },
    grouping: { by: 'consecutive', key: 'Name' },
    items: { from: 'rows', sku: ['Lineitem sku', 'Lineitem name'], quantity: 'Lineitem quantity', unitPrice: 'Lineitem price', category: 'Vendor' },
    channels: { web: 'web', pos: 'store', iphone: 'app', android: 'app', shopify_draft_order: 'web' },
    paymentMethods: { 'cash on delivery (cod)': 'cash', cash: 'cash', 'bank deposit': 'prepaid', 'gift card': 'prepaid', 'money order': 'prepaid' },
  },
  /** WooCommerce REST API `GET /wp-json/wc/v3/orders`, one order object per line (NDJSON). */
  woocommerce: {
    format: 'ndjson',
    columns: {
      customer_id: ['customer_id', 'billing.email'],
      order_id: 'id',
      placed_at: 'date_created_gmt',
      occurred_at: ['date_modified_gmt', 'date_completed_gmt', 'date_paid_gmt', 'date_created_gmt'],
      total: 'total',
      status: 'status',
      currency: 'currency',
      channel: 'created_via',
      payment_method: 'payment_method',
    },
    noCustomer: ['0'],
    noCustomerReason: 'no customer: guest order (customer_id 0) without a billing email',
    statuses: {
      pending: 'placed',
      'on-hold': 'placed',
      processing: 'paid',
      completed: 'delivered',
      cancelled: 'cancelled',
      failed: 'cancelled',
      refunded: 'refunded',
    },
    grouping: { by: 'row' },
    items: { from: { array: 'line_items' }, sku: ['sku', 'product_id', 'name'], quantity: 'quantity', unitPrice: 'price' },
    refunds: { array: 'refunds', amount: 'total' },
    channels: { checkout: 'web', 'store-api': 'web', admin: 'web', 'rest-api': 'web', pos: 'store' },
    paymentMethods: { cod: 'cash', bacs: 'prepaid', cheque: 'prepaid' },
  },
  /** Magento 2 admin → Sales → Orders → Export → CSV (the order grid). Prices carry a currency symbol. */
  magento: {
    format: 'csv',
    columns: {
      customer_id: 'Customer Email',
      order_id: 'ID',
      placed_at: 'Purchase Date',
      occurred_at: 'Purchase Date',
      total: 'Grand Total (Purchased)',
      refunded_amount: 'Total Refunded',
      status: 'Status',
      payment_method: 'Payment Method',
    },
    noCustomerReason: 'no customer: no Customer Email',
    statuses: {
      // The grid export writes status labels (On Hold); the codes (holded) are accepted too.
      pending: 'placed',
      pending_payment: 'placed',
      'pending payment': 'placed',
      holded: 'placed',
      'on hold': 'placed',
      processing: 'paid',
      complete: 'delivered',
      closed: 'refunded',
      canceled: 'cancelled',
    },
    grouping: { by: 'row' },
    paymentMethods: { 'cash on delivery': 'cash', 'check / money order': 'prepaid', 'bank transfer payment': 'prepaid' },
  },
  /** The UCI "Online Retail" invoice lines (RFM tutorials): one row per invoice line, `C` invoices cancel. */
  'online-retail': {
    format: 'csv',
    columns: { customer_id: 'CustomerID', order_id: 'InvoiceNo', placed_at: 'InvoiceDate', occurred_at: 'InvoiceDate' },
    noCustomerReason: 'no customer: blank CustomerID',
    defaultStatus: 'delivered',
    grouping: { by: 'consecutive', key: 'InvoiceNo' },
    items: { from: 'rows', sku: ['StockCode'], quantity: 'Quantity', unitPrice: 'UnitPrice' },
    totalFromItems: true,
    cancellationPrefix: 'C',
    slashDates: 'month-first',
  },
} as const satisfies Record<string, OrderPreset>;

export type OrderPresetName = keyof typeof ORDER_PRESETS;
export const ORDER_PRESET_NAMES = Object.keys(ORDER_PRESETS) as OrderPresetName[];

/** The columns a preset reads a field from, in the order tried. */
export function columnsOf(preset: OrderPreset, field: OrderField): readonly string[] {
  const c = preset.columns[field];
  return c === undefined ? [] : typeof c === 'string' ? [c] : c;
}

/** The columns a CSV must have for the preset to make any order: one of each list. */
export function neededOrderColumns(preset: OrderPreset): (readonly string[])[] {
  const fields: OrderField[] = ['customer_id', 'placed_at'];
  if (!preset.totalFromItems) fields.push('total');
  if (preset.grouping.by === 'consecutive') fields.push('order_id');
  return fields.map((f) => columnsOf(preset, f));
}

/** Items without a category column get this one (the schema requires one; scoring does not read it). */
export const NO_CATEGORY = 'uncategorized';

/**
 * A preset with `--map` applied: `--map customer_id=Customer ID,item_sku=Variant SKU`
 * replaces the columns it names and leaves the rest.
 */
export function withColumns(preset: OrderPreset, map: Readonly<Record<string, string>>): OrderPreset {
  const columns: OrderColumns = { ...preset.columns };
  let items = preset.items;
  for (const [field, column] of Object.entries(map)) {
    if ((ORDER_FIELDS as readonly string[]).includes(field)) columns[field as OrderField] = column;
    else if ((ITEM_FIELDS as readonly string[]).includes(field)) {
      const base = items ?? { from: 'rows' as const, sku: [], quantity: 'item_quantity', unitPrice: 'item_unit_price' };
      if (field === 'item_sku') items = { ...base, sku: [column] };
      if (field === 'item_quantity') items = { ...base, quantity: column };
      if (field === 'item_unit_price') items = { ...base, unitPrice: column };
      if (field === 'item_category') items = { ...base, category: column };
    } else throw new Error(`--map: ${field} is not a field of orders; fields: ${[...ORDER_FIELDS, ...ITEM_FIELDS].join(', ')}`);
  }
  // A key column renamed by --map order_id=… keeps grouping by the same column.
  const grouping = preset.grouping.by === 'consecutive' && typeof map.order_id === 'string' ? { by: 'consecutive' as const, key: map.order_id } : preset.grouping;
  return { ...preset, columns, grouping, ...(items === undefined ? {} : { items }) };
}
