import { z } from 'zod';

/** The range of `orders.fx_rate Decimal(18, 8)`. */
export const FX_RATE_MIN = 1e-8;
export const FX_RATE_LIMIT = 1e10;

export const fxRatesSetting = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object such as {"EUR":1.08}' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().regex(/^[A-Z]{3}$/, 'keys are ISO 4217 codes'),
      // orders.fx_rate is Decimal(18, 8): a smaller rate would be stored as 0, a larger one refused.
      z.number().min(FX_RATE_MIN, `rates are at least ${FX_RATE_MIN}`).lt(FX_RATE_LIMIT, `rates are below ${FX_RATE_LIMIT}`),
    ),
  );

/** Rate to the reporting currency; the reporting currency itself is always 1. */
export function fxRateFor(currency: string, reporting: string, rates: Readonly<Record<string, number>>): number | undefined {
  return currency === reporting ? 1 : rates[currency];
}
