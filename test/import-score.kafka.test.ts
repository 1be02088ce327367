import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrderEvents } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { runCli } from './support/cli.js';
import { createTestTopics } from './support/kafka.js';
import { uniqueName } from './support/namespace.js';
import { spawnService, type ServiceProcess } from './support/processes.js';

const infra = useTestInfrastructure();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const AS_OF = '2026-06-30T00:00:00Z';

describe('crm import → Kafka → ingest → crm score → crm sql', () => {
  it('imports a CSV with its own column names, scores it as of a date, and reads consistent profiles, fits and views', { timeout: 300_000 }, async () => {
    const namespace = uniqueName('import');
    await createTestTopics(infra.kafka, namespace);
    const env = {
      ...infra.env(),
      CRM_TOPIC_NAMESPACE: namespace,
      INGEST_HEALTH_PORT: '0',
    };
    // A shop's export: delivered orders under its own column names, dates as yyyyMMdd.
    const orders = generateOrderEvents({ seed: 3, customers: 1500, end: new Date(AS_OF), idPrefix: 'shop', duplicateShare: 0 }).filter(
      (e) => e.status === 'delivered',
    );
    const yyyymmdd = (iso: string) => iso.slice(0, 10).replaceAll('-', '');
    const lines = ['Customer,Invoice,Date,Amount', ...orders.map((o) => `${o.customer_id},${o.order_id},${yyyymmdd(o.placed_at)},${o.total}`)];
    lines.push('shop-bad,shop-bad-1,2026-13-45,10', 'shop-bad,shop-bad-2,20260101,');
    const file = join(dir, 'orders.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const ingest: ServiceProcess = spawnService('services/ingest/src/main.ts', env);
    try {
      const mapping = 'customer_id=Customer,order_id=Invoice,placed_at=Date,total=Amount';
      const imported = await runCli(['import', 'orders', '--file', file, '--format', 'csv', '--map', mapping, '--wait'], env);
      expect(imported.stderr).toContain(`${orders.length + 2} rows read from ${file}: ${orders.length} orders made, ${orders.length} sent; skipped 2 orders (2 rows)`);
      expect(imported.stderr).toContain(`ingest accepted ${orders.length} of ${orders.length} sent orders; dead-lettered 0`);
      expect(imported.code).toBe(0);

      // Rows without a currency are in CRM_REPORTING_CURRENCY (here EUR, for the CLI only); ingest reports in USD
      // with no EUR rate, so it dead-letters them, and --wait says so with the reason and the lines.
      const euro = join(dir, 'euro.csv');
      writeFileSync(euro, 'Customer,Invoice,Date,Amount\nshop-eur,shop-eur-1,20260101,10\nshop-eur,shop-eur-2,20260102,12\n');
      const rejected = await runCli(['import', 'orders', '--file', euro, '--format', 'csv', '--map', 'customer_id=Customer,order_id=Invoice,placed_at=Date,total=Amount', '--wait'], {
        ...env,
        CRM_REPORTING_CURRENCY: 'EUR',
      });
      expect(rejected.stderr).toContain('ingest accepted 0 of 2 sent orders; dead-lettered 2');
      expect(rejected.stderr).toMatch(/ {2}dead-lettered 2 × missing_fx_rate: line 2: no rate from EUR to USD[^;]*; line 3: /);
      expect(rejected.code).toBe(1);

      const scored = await runCli(['score', '--as-of', AS_OF], env);
      expect(scored.code, scored.stderr).toBe(0);
      expect(scored.stderr).toMatch(/mbgnbd: r=/);

      const sql = async <T>(query: string) => {
        const result = await runCli(['sql', query, '--format', 'JSONEachRow'], env);
        expect(result.code, result.stderr).toBe(0);
        return result.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
      };
      const customers = new Set(orders.map((o) => o.customer_id)).size;
      const [profile] = await sql<{ customers: number; purchases: number; revenue: number; tiers: number; scored: number }>(
        `SELECT count() AS customers, sum(purchases_total) AS purchases, toFloat64(sum(revenue_total)) AS revenue,
                uniqExact(value_tier) AS tiers, countIf(p_alive BETWEEN 0 AND 1 AND clv_12m >= 0 AND expected_purchases_90d >= 0) AS scored
         FROM customer_profiles FINAL`,
      );
      const revenue = orders.reduce((n, o) => n + Math.round(o.total * 100), 0) / 100;
      expect(profile).toEqual({ customers, purchases: orders.length, revenue: expect.closeTo(revenue, 2), tiers: 4, scored: customers });

      const fits = await sql<{ model: string; customers: number; ll: number }>(
        'SELECT model, customers, log_likelihood AS ll FROM model_fits ORDER BY model',
      );
      expect(fits.map((f) => f.model)).toEqual(['bgnbd', 'gamma_gamma', 'mbgnbd']);
      expect(fits.find((f) => f.model === 'mbgnbd')!.customers).toBe(customers);
      expect(fits.every((f) => Number.isFinite(f.ll) && f.ll < 0)).toBe(true);

      const [grid] = await sql<{ cells: number; in_grid: number; in_window: number }>(
        `SELECT (SELECT count() FROM rfm_grid) AS cells, (SELECT sum(customers) FROM rfm_grid) AS in_grid,
                (SELECT countIf(frequency > 0) FROM customer_profiles FINAL) AS in_window`,
      );
      expect(grid!.in_grid).toBe(grid!.in_window);
      // Ties in frequency (most customers buy once or twice) leave some cells empty.
      expect(grid!.cells).toBeGreaterThanOrEqual(10);

      const cohorts = await sql<{ months_since_first: number; retention_pct: number }>('SELECT months_since_first, retention_pct FROM cohort_retention');
      expect(cohorts.filter((c) => c.months_since_first === 0).every((c) => c.retention_pct === 100)).toBe(true);
      const segments = await sql<{ rfm_segment: string }>('SELECT DISTINCT rfm_segment FROM customer_profiles FINAL');
      expect(segments.length).toBeGreaterThanOrEqual(8);
      const stages = await sql<{ lifecycle_stage: string }>('SELECT DISTINCT lifecycle_stage FROM customer_profiles FINAL ORDER BY lifecycle_stage');
      expect(stages.map((s) => s.lifecycle_stage)).toEqual(expect.arrayContaining(['active', 'churned', 'new']));

      // Importing the same file again changes nothing.
      const again = await runCli(['import', 'orders', '--file', file, '--format', 'csv', '--map', mapping, '--wait'], env);
      expect(again.code).toBe(0);
      await runCli(['score', '--as-of', AS_OF], env);
      const [after] = await sql<typeof profile>(
        `SELECT count() AS customers, sum(purchases_total) AS purchases, toFloat64(sum(revenue_total)) AS revenue,
                uniqExact(value_tier) AS tiers, countIf(p_alive BETWEEN 0 AND 1 AND clv_12m >= 0 AND expected_purchases_90d >= 0) AS scored
         FROM customer_profiles FINAL`,
      );
      expect(after).toEqual(profile);
      console.log(`[import-score] ${scored.stderr.trim()}`);
    } finally {
      await ingest.kill('SIGTERM');
    }
  });
});
