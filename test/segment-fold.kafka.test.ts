import { describe, expect, it } from 'vitest';
import { decodeEvent, type SegmentChangeEvent } from '@crm/events';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { loadIngestConfig, startIngest } from '@crm/ingest';
import { selectRows as rows, uniqueOrderEvents } from './support/queries.js';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, header, produce, readTopic } from './support/kafka.js';
import { asMessages, orderEvent, shopWithVip, ticketEvent } from './support/events.js';
import { spawnService } from './support/processes.js';
import { runCli } from './support/cli.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const COLUMNS = { rfm: 'rfm_segment', lifecycle: 'lifecycle_stage', tier: 'value_tier' } as const;


type Fold = Map<string, Record<string, string>>;

/** A subscriber's fold of the stream, in delivery order, de-duplicated on event_id; every chain must link. */
function fold(events: SegmentChangeEvent[]): { state: Fold; broken: string[] } {
  const state: Fold = new Map();
  const broken: string[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    const current = state.get(e.customer_id) ?? {};
    const previous = current[e.segment_type] ?? null;
    if (e.from !== previous) broken.push(`${e.customer_id} ${e.segment_type}: from ${e.from}, but the last event said ${previous}`);
    current[e.segment_type] = e.to;
    state.set(e.customer_id, current);
  }
  return { state, broken };
}

describe('folding crm.segment-changes.v1', () => {
  it('per customer, the fold of the stream equals the final profiles and risk states, through runs, incremental updates and a recovery', { timeout: 360_000 }, async () => {
    // The baseline's at-risk entries are sent here, so the subscriber's fold can reach every recorded risk state.
    const env = infra.env({ PUBLISHER_HEALTH_PORT: '0', PUBLISHER_POLL_MS: '100', SCORING_HEALTH_PORT: '0', SCORING_INTERVAL_SECONDS: '3600', RISK_ALERT_ON_BASELINE: 'true' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const ingestConfig = loadIngestConfig(env);
    const ingest = await startIngest(ingestConfig, createLogger('ingest', 'warn'));
    const clickhouse = createClickHouse(ingestConfig);
    const now = Date.now();
    const history = shopWithVip(88, now);
    const unique = (events: { event_id: string }[]) => new Set(events.map((e) => e.event_id)).size;
    const ingested = () => uniqueOrderEvents(clickhouse);
    await produce(infra.kafka, topics.orders, asMessages(history));
    await waitUntil(ingested, (n) => n === unique(history));

    // At debug: each batch's wait for ingest and each real-time judgement, for the log a failure prints.
    const scoring = spawnService('services/scoring/src/main.ts', { ...env, LOG_LEVEL: 'debug' });
    const publisher = spawnService('services/publisher/src/main.ts', env);
    try {
      await scoring.waitForLog((l) => l.msg === 'scoring run done', 120_000);
      const risk = async (customer: string) =>
        (await rows<{ to: string }>(clickhouse, "SELECT argMax(`to`, changed_at) AS `to` FROM segment_changes WHERE customer_id = {c:String} AND segment_type = 'risk' HAVING count() > 0", { c: customer }))[0]?.to;
      // A complaint from the most valuable customer: at risk at once; resolved: recovered.
      await produce(infra.kafka, topics.tickets, asMessages([ticketEvent('vip', 't-vip', 'opened', 'complaint', now - 60_000)]));
      await waitUntil(() => risk('vip'), (r) => r === 'at_risk', 90_000);
      await produce(infra.kafka, topics.tickets, asMessages([ticketEvent('vip', 't-vip', 'resolved', 'complaint', now - 30_000)]));
      await waitUntil(() => risk('vip'), (r) => r === 'recovered', 90_000);
      // New buyers arrive through the incremental path, then a full run from the CLI rescores everyone.
      const newcomers = Array.from({ length: 12 }, (_, i) => orderEvent(`newcomer${i}`, now - i * 60_000, 30 + i));
      await produce(infra.kafka, topics.orders, asMessages(newcomers));
      await waitUntil(ingested, (n) => n === unique(history) + unique(newcomers));
      await waitUntil(
        async () => Number((await rows<{ n: string }>(clickhouse, "SELECT count() AS n FROM customer_profiles FINAL WHERE startsWith(customer_id, 'newcomer')"))[0]!.n),
        (n) => n === newcomers.length,
        90_000,
      );
      const cli = await runCli(['score'], env);
      expect(cli.code, cli.stderr).toBe(0);
      expect(await scoring.kill('SIGTERM')).toBe(0);

      const recorded = Number((await rows<{ n: string }>(clickhouse, 'SELECT uniqExact(event_id) AS n FROM segment_changes WHERE publish'))[0]!.n);
      const messages = await waitUntil(
        () => readTopic(infra.kafka, topics.segmentChanges, () => false, 2_000),
        (m) => new Set(m.map((x) => x.headers!['event-id']!.toString())).size >= recorded,
        120_000,
      );
      const events = messages.map((m) => {
        const decoded = decodeEvent('segment-changes', m.value!, header(m, 'content-type')!);
        if (!decoded.ok) throw new Error(decoded.rejection.message);
        return decoded.event;
      });
      const { state, broken } = fold(events);
      expect(broken).toEqual([]);

      // The fold equals the profiles: every segmentation, every customer.
      const profiles = await rows<{ customer_id: string; rfm_segment: string; lifecycle_stage: string; value_tier: string | null }>(
        clickhouse,
        'SELECT customer_id, rfm_segment, lifecycle_stage, value_tier FROM customer_profiles FINAL',
      );
      expect(profiles.map((p) => p.customer_id)).toEqual(expect.arrayContaining(['vip', ...newcomers.map((o) => o.customer_id)]));
      const mismatches: string[] = [];
      for (const p of profiles) {
        const folded = state.get(p.customer_id) ?? {};
        for (const [type, column] of Object.entries(COLUMNS)) {
          if ((folded[type] ?? null) !== p[column]) mismatches.push(`${p.customer_id} ${type}: fold ${folded[type]}, profile ${p[column]}`);
        }
      }
      expect(mismatches).toEqual([]);
      // And the risk state: the fold's equals what ClickHouse recorded last, for every customer ever at risk.
      const riskStates = await rows<{ customer_id: string; to: string }>(
        clickhouse,
        "SELECT customer_id, argMax(`to`, changed_at) AS `to` FROM segment_changes WHERE segment_type = 'risk' GROUP BY customer_id",
      );
      expect(riskStates.length).toBeGreaterThan(0);
      expect(riskStates.filter((r) => state.get(r.customer_id)?.risk !== r.to)).toEqual([]);
      expect([...state].filter(([, s]) => s.risk !== undefined).length).toBe(riskStates.length);
      expect(state.get('vip')?.risk).toBe('recovered');
      const vipRisk = new Map(events.filter((e) => e.customer_id === 'vip' && e.segment_type === 'risk').map((e) => [e.event_id, `${e.from}→${e.to}`]));
      expect([...vipRisk.values()]).toEqual(['null→at_risk', 'at_risk→recovered']);
    } catch (error) {
      // Seen once in CI only (2026-12-03: the complaint's at_risk not recorded within 90 s): what scoring did is the evidence.
      console.error(`scoring's log, last lines:\n${scoring.lines.slice(-80).map((l) => JSON.stringify(l).slice(0, 500)).join('\n')}`);
      throw error;
    } finally {
      await scoring.kill('SIGTERM');
      await publisher.kill('SIGTERM');
      await ingest.stop();
      await clickhouse.close();
    }
  });
});
