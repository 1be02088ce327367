import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { freePort, startBroker, stopBroker } from '@crm/kafka-local';
import { createLogger } from '@crm/runtime';
import { generateOrderEvents, rawOrderRow } from '@crm/sample-data';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics, produce, readTopic } from './support/kafka.js';
import { spawnService, type ServiceProcess } from './support/processes.js';
import { uniqueOrderEvents } from './support/queries.js';
import { healthPort, isRunning, waitForReadiness } from './support/services.js';
import { waitUntil } from './support/wait.js';

/**
 * Start, wait, heal (issue 11, item 5), through real processes, a real broker
 * and the real engine: a service started while a dependency is down stays up
 * and not ready, becomes ready and processes once the dependency arrives;
 * losing it again makes it not ready (a stuck send, a dead consumer) instead
 * of exiting or pretending, and it heals when the dependency is back.
 */
const infra = useTestInfrastructure();
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
const started: ServiceProcess[] = [];
afterAll(async () => {
  for (const s of started) await s.kill('SIGKILL');
  for (const dir of dirs) {
    await stopBroker(dir, 10_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

const SCRIPTS = { ingest: 'services/ingest/src/main.ts', scoring: 'services/scoring/src/main.ts', publisher: 'services/publisher/src/main.ts' } as const;
type Name = keyof typeof SCRIPTS;

function startServices(env: Record<string, string>): Record<Name, ServiceProcess> {
  const out = {} as Record<Name, ServiceProcess>;
  for (const name of Object.keys(SCRIPTS) as Name[]) {
    out[name] = spawnService(SCRIPTS[name], {
      ...env,
      SCORING_HEALTH_PORT: '0',
      PUBLISHER_HEALTH_PORT: '0',
      SCORING_INTERVAL_SECONDS: '2',
      SCORING_SESSION_TIMEOUT_MS: '6000',
      INGEST_SESSION_TIMEOUT_MS: '6000',
      // Fetches come every few seconds when idle (the broker's max wait); far below these.
      INGEST_PROGRESS_DEADLINE_SECONDS: '15',
      SCORING_PROGRESS_DEADLINE_SECONDS: '15',
      PUBLISHER_PROGRESS_DEADLINE_SECONDS: '10',
    });
    started.push(out[name]);
  }
  return out;
}

/** Each service logged that it is waiting for the dependency, is still running, and /readyz says not ready, naming it. */
async function expectWaiting(services: Record<Name, ServiceProcess>, ports: Record<Name, number>, dependency: RegExp, reason: RegExp) {
  for (const name of Object.keys(services) as Name[]) {
    const s = services[name];
    // Two waits logged: it tried, backed off and tried again, still alive.
    await waitUntil(async () => s.lines.filter((l) => dependency.test(String(l.msg ?? ''))).length, (n) => n >= 2 || !isRunning(s), 90_000);
    expect(isRunning(s), `${name} exited while its dependency was down`).toBe(true);
    expect(await waitForReadiness(s, ports[name], 503, 5_000)).toMatch(reason);
  }
}

async function stopAll(services: Record<Name, ServiceProcess>) {
  // Clean shutdowns: SIGTERM ends every service with code 0.
  const codes = await Promise.all((Object.keys(services) as Name[]).map(async (name) => [name, await services[name].kill('SIGTERM')] as const));
  expect(Object.fromEntries(codes)).toEqual({ ingest: 0, scoring: 0, publisher: 0 });
}

describe('services start, wait and heal', () => {
  it('broker down at start-up: every service stays up and not ready, then processes once the broker arrives; a stuck send and a dead consumer report not ready and heal', { timeout: 420_000 }, async () => {
    const brokerDir = tempDir('crm-heal-kafka-');
    const ports = { port: await freePort(), controllerPort: await freePort() };
    const brokers = `127.0.0.1:${ports.port}`;
    const env = infra.env({ KAFKA_BROKERS: brokers });
    const clickhouse = createClickHouse({ ...env, CLICKHOUSE_USER: env.CLICKHOUSE_USER!, CLICKHOUSE_PASSWORD: env.CLICKHOUSE_PASSWORD!, CLICKHOUSE_URL: env.CLICKHOUSE_URL! });
    const services = startServices(env);
    try {
      const health = { ingest: await healthPort(services.ingest), scoring: await healthPort(services.scoring), publisher: await healthPort(services.publisher) };
      // Scoring needs only ClickHouse for its schedule; its incremental consumer waits for the broker in the background.
      await expectWaiting({ ingest: services.ingest, publisher: services.publisher } as Record<Name, ServiceProcess>, health, /Kafka \(producer\): not available yet/, /producer: waiting for the broker/);
      await waitUntil(async () => services.scoring.lines.filter((l) => /incremental consumer: not available yet/.test(String(l.msg))).length, (n) => n >= 1, 120_000);
      expect(await waitForReadiness(services.scoring, health.scoring, 503, 5_000)).toMatch(/incremental consumer/);

      const broker = await startBroker({ dir: brokerDir, ...ports, startTimeoutMs: 120_000 });
      const kafka = createKafka({ KAFKA_BROKERS: broker.brokers }, { clientId: 'crm-test-heal', logger: createLogger('test', 'error') });
      const topics = topicNames(env.CRM_TOPIC_NAMESPACE);
      await ensureTopics(kafka, Object.values(topics), 3);
      for (const name of Object.keys(services) as Name[]) await waitForReadiness(services[name], health[name], 200, 180_000);

      const events = generateOrderEvents({ seed: 21, customers: 40, end: new Date('2026-06-30T00:00:00Z'), idPrefix: 'heal' });
      await produce(kafka, topics.orders, events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
      const unique = new Set(events.map((e) => e.event_id)).size;
      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === unique, 120_000);
      // Scoring ran and the publisher sent its changes: the pipeline processes end to end.
      await readTopic(kafka, topics.segmentChanges, (m) => m.length > 0, 120_000);

      // The broker goes away. Every consumer stops fetching or crashes: not ready, and still running.
      await stopBroker(brokerDir);
      // A new buyer scored while the broker is gone: the publisher's send cannot complete.
      await clickhouse.insert({ table: 'orders', values: [rawOrderRow('heal-late', Date.now() - 86_400_000, 40)], format: 'JSONEachRow' });
      const reasons = {
        ingest: await waitForReadiness(services.ingest, health.ingest, 503, 120_000),
        scoring: await waitForReadiness(services.scoring, health.scoring, 503, 120_000),
        publisher: await waitForReadiness(services.publisher, health.publisher, 503, 120_000),
      };
      expect(reasons.ingest).toMatch(/consumer/);
      expect(reasons.scoring).toMatch(/incremental consumer/);
      expect(reasons.publisher).toMatch(/loop: no a poll of the outbox completed/);
      for (const name of Object.keys(services) as Name[]) expect(isRunning(services[name]), name).toBe(true);

      // The broker is back: everyone heals on their own, and the stuck change goes out.
      await startBroker({ dir: brokerDir, ...ports, startTimeoutMs: 120_000 });
      for (const name of Object.keys(services) as Name[]) await waitForReadiness(services[name], health[name], 200, 180_000);
      const late = await readTopic(kafka, topics.segmentChanges, (m) => m.some((x) => x.key?.toString() === 'heal-late'), 120_000);
      expect(late.some((x) => x.key?.toString() === 'heal-late')).toBe(true);
      await stopAll(services);
    } finally {
      await clickhouse.close();
    }
  });

  it('ClickHouse down at start-up: every service stays up and not ready, then processes once ClickHouse arrives', { timeout: 300_000 }, async () => {
    const chPort = await freePort();
    const env = infra.env({ CLICKHOUSE_URL: `http://127.0.0.1:${chPort}`, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '' });
    const topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const services = startServices(env);
    const health = { ingest: await healthPort(services.ingest), scoring: await healthPort(services.scoring), publisher: await healthPort(services.publisher) };
    await expectWaiting(services, health, /ClickHouse \(migrations\): not available yet/, /clickhouse: waiting for ClickHouse/);

    const host = spawnService('services/clickhouse-host/src/main.ts', { CRM_CLICKHOUSE_PORT: String(chPort), CRM_CLICKHOUSE_DATA_DIR: tempDir('crm-heal-ch-') });
    started.push(host);
    await host.waitForLog((l) => l.msg === 'listening', 120_000);
    const clickhouse = createClickHouse({ ...env, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_URL: env.CLICKHOUSE_URL! });
    try {
      for (const name of Object.keys(services) as Name[]) await waitForReadiness(services[name], health[name], 200, 180_000);
      const events = generateOrderEvents({ seed: 22, customers: 40, end: new Date('2026-06-30T00:00:00Z'), idPrefix: 'heal-ch' });
      await produce(infra.kafka, topics.orders, events.map((e) => ({ key: e.customer_id, value: JSON.stringify(e) })));
      await waitUntil(() => uniqueOrderEvents(clickhouse), (n) => n === new Set(events.map((e) => e.event_id)).size, 120_000);
      await readTopic(infra.kafka, topics.segmentChanges, (m) => m.length > 0, 120_000);
      await stopAll(services);
    } finally {
      await clickhouse.close();
      await host.kill('SIGTERM');
    }
  });
});
