import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { freePort } from '@crm/kafka-local';
import { generateOrderEvents } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, produce } from './support/kafka.js';
import { spawnService } from './support/processes.js';
import { uniqueOrderEvents } from './support/queries.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

describe('ingest during a ClickHouse outage', () => {
  it('stays in its consumer group through an outage longer than its session timeout (heartbeats while a write waits)', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-hb-ch-'));
    const port = await freePort();
    const hostEnv = { CRM_CLICKHOUSE_PORT: String(port), CRM_CLICKHOUSE_DATA_DIR: dir };
    let host = spawnService('services/clickhouse-host/src/main.ts', hostEnv);
    await host.waitForLog((l) => l.msg === 'listening', 120_000);
    const env = infra.env({ CLICKHOUSE_URL: `http://127.0.0.1:${port}`, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', INGEST_SESSION_TIMEOUT_MS: '6000' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const clickhouse = createClickHouse({ CLICKHOUSE_URL: env.CLICKHOUSE_URL!, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: env.CLICKHOUSE_DATABASE });
    const ingest = spawnService('services/ingest/src/main.ts', env);
    try {
      await ingest.waitForLog((l) => l.msg === 'ingest running', 120_000);
      const events = generateOrderEvents({ seed: 31, customers: 30, end: new Date('2026-06-30T00:00:00Z'), idPrefix: 'hb' });
      const half = Math.floor(events.length / 2);
      const send = (list: typeof events) => produce(infra.kafka, topics.orders, list.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
      await send(events.slice(0, half));
      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === new Set(events.slice(0, half).map((e) => e.event_id)).size, 120_000);

      await host.kill('SIGTERM');
      const outageFrom = ingest.lines.length;
      await send(events.slice(half));
      // The outage lasts until the write has been retrying for well over the 6 s session (attempt 7: ~10 s and more).
      await ingest.waitForLog((l) => l.msg === 'ClickHouse write failed; retrying' && Number(l.attempt) >= 7, 120_000);
      host = spawnService('services/clickhouse-host/src/main.ts', hostEnv);
      await host.waitForLog((l) => l.msg === 'listening', 120_000);
      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === new Set(events.map((e) => e.event_id)).size, 120_000);

      // Still the same member since the outage began: no crash, no replaced consumer, never dropped from the group.
      const trouble = ingest.lines.slice(outageFrom).filter((l) => /Crash|not aware of this member|consumer: not available yet/.test(String(l.msg ?? '')));
      expect(trouble.map((l) => String(l.msg).slice(0, 200))).toEqual([]);
      expect(await ingest.kill('SIGTERM')).toBe(0);
    } finally {
      await ingest.kill('SIGKILL');
      await clickhouse.close();
      await host.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
