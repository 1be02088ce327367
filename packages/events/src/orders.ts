import { z } from 'zod';
import { amount, currencyCode, eventEnvelope, isoInstant, nonEmpty } from './common.js';

export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export const ORDER_CHANNELS = ['web', 'app', 'store', 'marketplace'] as const;
export const PAYMENT_METHODS = ['cash', 'prepaid', 'credit'] as const;

export const orderItem = z.object({
  sku: nonEmpty,
  category: nonEmpty,
  quantity: z.number().int().positive(),
  unit_price: amount,
});

/** `crm.orders.v1`: the latest event of an order (by occurred_at, then event_id) is its state. */
export const orderEvent = z
  .object({
    ...eventEnvelope,
    order_id: nonEmpty,
    customer_id: nonEmpty,
    status: z.enum(ORDER_STATUSES),
    placed_at: isoInstant,
    total: amount,
    refunded_amount: amount,
    currency: currencyCode,
    channel: z.enum(ORDER_CHANNELS),
    payment_method: z.enum(PAYMENT_METHODS),
    items: z.array(orderItem).max(1000),
  })
  .refine((o) => o.refunded_amount <= o.total, {
    message: 'refunded_amount exceeds total',
    path: ['refunded_amount'],
    params: { reason: 'invalid_amount' },
  });

export type OrderEvent = z.infer<typeof orderEvent>;
