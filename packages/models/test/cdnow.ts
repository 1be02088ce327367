/**
 * The CDNOW sample used by Fader, Hardie & Lee (2005): 2 357 customers who
 * made their first purchase in the first 12 weeks of 1997, observed for 39
 * weeks (time unit: weeks). Columns: ID, x (repeat purchases), t_x, T and
 * zbar (mean value of the repeat transactions, 0 when x = 0). The file is
 * `cdnow_customers_summary_with_transactions.csv` as shipped in the
 * `lifetimes` Python package (MIT licence), unchanged.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CdnowCustomer {
  x: number;
  t_x: number;
  T: number;
  mbar: number;
}

export function loadCdnow(): CdnowCustomer[] {
  const text = readFileSync(fileURLToPath(new URL('./fixtures/cdnow-customers-summary.csv', import.meta.url)), 'utf8');
  const [header, ...lines] = text.trim().split(/\r?\n/);
  if (header !== 'ID,x,t_x,T,zbar') throw new Error(`unexpected CDNOW header: ${header}`);
  return lines.map((line) => {
    const [, x, t_x, T, zbar] = line.split(',').map(Number);
    if ([x, t_x, T, zbar].some((v) => v === undefined || !Number.isFinite(v))) throw new Error(`bad CDNOW line: ${line}`);
    return { x: x as number, t_x: t_x as number, T: T as number, mbar: zbar as number };
  });
}
