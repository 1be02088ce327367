import { z } from 'zod';

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
  .pipe(z.record(z.string().regex(/^[A-Z]{3}$/, 'keys are ISO 4217 codes'), z.number().positive('rates are positive')));

/** Rate to the reporting currency; the reporting currency itself is always 1. */
export function fxRateFor(currency: string, reporting: string, rates: Readonly<Record<string, number>>): number | undefined {
  return currency === reporting ? 1 : rates[currency];
}
