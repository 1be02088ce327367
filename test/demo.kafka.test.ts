import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { loadIngestConfig } from '@crm/ingest';
import { useTestInfrastructure } from './support/harness.js';
import { runCli } from './support/cli.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const home = mkdtempSync(join(tmpdir(), 'crm-demo-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

type Row = Record<string, string>;

/** The tables of a printed summary (ClickHouse's PrettyCompactMonoBlock), by the title line above each. */
function summaryTables(text: string): Map<string, Row[]> {
  const tables = new Map<string, Row[]>();
  let title = '';
  let columns: string[] | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('┌')) {
      columns = trimmed.slice(1, -1).split('┬').map((c) => c.replace(/^─+|─+$/g, ''));
      tables.set(title, []);
    } else if (trimmed.startsWith('└')) {
      columns = undefined;
    } else if (columns && trimmed.includes('│')) {
      const cells = trimmed.replace(/^\d+\.\s*/, '').split('│').slice(1, -1).map((c) => c.trim());
      tables.get(title)!.push(Object.fromEntries(columns.map((c, i) => [c, cells[i]!])));
    } else if (trimmed !== '') {
      title = trimmed;
    }
  }
  return tables;
}

const table = (tables: Map<string, Row[]>, prefix: string): Row[] => {
  const found = [...tables].find(([title]) => title.startsWith(prefix));
  if (!found) throw new Error(`no table "${prefix}" in the summary; tables: ${[...tables.keys()].join(', ')}`);
  return found[1];
};

async function select<T>(clickhouse: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  return (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<T>();
}

describe('crm demo with the default settings', () => {
  it('prints a shop: no NULL, every stage with a real share active, the 50/30/15/5 pyramid, alerts for a minority; the next scheduled runs flip nobody', { timeout: 900_000 }, async () => {
    // Only the test's isolation differs from a user's defaults (its own broker namespace, database
    // and CRM_HOME), and the cadence of the scheduled runs the stability check waits for: two of them
    // every 10 s, each a full run, instead of one a day; what they compute does not depend on it.
    const env = infra.env({ CRM_HOME: home, SCORING_INTERVAL_SECONDS: '10', SCORING_FULL_RUN_INTERVAL_SECONDS: '0' });
    const clickhouse = createClickHouse(loadIngestConfig(env));
    try {
      const demo = await runCli(['demo'], env);
      expect(demo.code, demo.stderr).toBe(0);
      // It ends by printing the dashboard's URL, and the overview there shows the demo's pyramid.
      const dashboard = /dashboard: (http:\/\/\S+)\s*$/.exec(demo.stderr)?.[1];
      expect(dashboard, demo.stderr).toBeDefined();
      const overview = await fetch(dashboard!);
      expect(overview.status).toBe(200);
      const page = await overview.text();
      for (const tier of ['platinum', 'gold', 'iron', 'lead']) expect(page).toContain(`<span class="tier">${tier}</span>`);
      const demoDone = Date.now();
      const summary = demo.stdout;
      console.log(`[demo] summary:\n${summary}`);
      expect(summary, summary).not.toMatch(/ᴺᵁᴸᴸ|\bNULL\b/);
      const tables = summaryTables(summary);

      const [customers] = table(tables, 'Customers');
      const buyers = Number(customers!.buyers);
      expect(Number(customers!.customers)).toBe(500);
      const stages = Object.fromEntries(table(tables, 'Lifecycle stages').map((r) => [r.lifecycle_stage!, Number(r.customers)]));
      expect(Object.keys(stages).sort()).toEqual(['active', 'at_risk', 'churned', 'new', 'prospect', 'reactivated']);
      for (const [stage, n] of Object.entries(stages)) expect(n, `${stage} in ${JSON.stringify(stages)}`).toBeGreaterThan(0);
      expect(stages.active! / buyers, JSON.stringify(stages)).toBeGreaterThanOrEqual(0.25);
      expect(500 - stages.prospect!).toBe(buyers);

      const pyramid = Object.fromEntries(table(tables, 'Customer pyramid').map((r) => [r.value_tier!, Number(r.pct_of_buyers)]));
      expect(Object.keys(pyramid)).toEqual(['platinum', 'gold', 'iron', 'lead']);
      for (const [tier, pct] of Object.entries({ platinum: 5, gold: 15, iron: 30, lead: 50 })) {
        expect(Math.abs(pyramid[tier]! - pct), `${tier} ${JSON.stringify(pyramid)}`).toBeLessThanOrEqual(3);
      }

      const [alerts] = table(tables, 'At-risk alerts');
      const watched = Number(alerts!.watched);
      expect(watched).toBeGreaterThan(0);
      expect(Number(alerts!.alerted_customers) * 2, JSON.stringify(alerts)).toBeLessThan(watched);
      expect(Number(alerts!.alerts_sent)).toBeLessThanOrEqual(Number(alerts!.alerts_recorded));
      expect(Number(alerts!.sent_to_customers)).toBeLessThanOrEqual(Number(alerts!.alerted_customers));

      // No new events: the next two scheduled runs of the service may change a customer's risk state at most once.
      const runsAfter = async () =>
        // The text alias differs from the column: an alias would shadow the column in WHERE.
        (await select<{ as_of_text: string }>(clickhouse, 'SELECT toString(as_of) AS as_of_text FROM scoring_runs FINAL WHERE as_of > fromUnixTimestamp64Milli({t:Int64}) AND customers > 0 ORDER BY as_of', { t: demoDone }));
      const runs = await waitUntil(runsAfter, (r) => r.length >= 2, 300_000);
      const flips = await select<{ customer_id: string; changes: string; states: string[] }>(
        clickhouse,
        `SELECT customer_id, count() AS changes, groupArray(\`to\`) AS states FROM segment_changes
         WHERE segment_type = 'risk' AND as_of > fromUnixTimestamp64Milli({t:Int64}) AND as_of <= {last:DateTime64(3, 'UTC')}
         GROUP BY customer_id HAVING changes > 1`,
        { t: demoDone, last: runs[1]!.as_of_text },
      );
      expect(flips).toEqual([]);
    } finally {
      await runCli(['down'], env);
      await clickhouse.close();
    }
  });
});
