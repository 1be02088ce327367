import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '@crm/clickhouse';
import { Kafka, logLevel } from 'kafkajs';
import { classifyKafkaError, createKafka, kafkaConnectionOptions, loadKafkaSettings } from '@crm/kafka';
import { freePort, startBroker, stopBroker } from '@crm/kafka-local';
import { createLogger } from '@crm/runtime';
import { generateOrderEvents } from '@crm/sample-data';
import { runCli } from './support/cli.js';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics } from './support/kafka.js';
import { makeTestPki } from './support/pki.js';
import { spawnService, type ServiceProcess } from './support/processes.js';
import { isRunning } from './support/services.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();
const USERS = {
  PLAIN: { username: 'crm-plain', password: 'plain-pw-1' },
  'SCRAM-SHA-256': { username: 'crm-scram256', password: 'scram256-pw-1' },
  'SCRAM-SHA-512': { username: 'crm-scram512', password: 'scram512-pw-1' },
} as const;
type Mechanism = keyof typeof USERS;

let dir: string;
let brokerDir: string;
let saslSslPort: number;
let plaintextPort: number;
let files: { ca: string; cert: string; key: string; passphrase: string; strangerCert: string; strangerKey: string };

/**
 * One broker for the file with a SASL_SSL listener (client certificates required) beside its
 * plaintext one; everything under test gets only the SASL_SSL address.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-test-sasl-ssl-'));
  const pki = makeTestPki(dir);
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  files = {
    ca: write('ca.pem', pki.caPem),
    cert: write('client.crt', pki.clientCertPem),
    key: write('client.key', pki.clientKeyPem),
    passphrase: pki.clientKeyPassphrase,
    strangerCert: write('stranger.crt', pki.strangerCertPem),
    strangerKey: write('stranger.key', pki.strangerKeyPem),
  };
  saslSslPort = await freePort();
  plaintextPort = await freePort();
  brokerDir = join(dir, 'broker');
  await startBroker({
    dir: brokerDir,
    port: plaintextPort,
    controllerPort: await freePort(),
    saslSsl: {
      port: saslSslPort,
      keystore: pki.serverKeystore,
      truststore: pki.truststore,
      storePassword: pki.storePassword,
      plainUsers: { [USERS.PLAIN.username]: USERS.PLAIN.password },
      scramUsers: (['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const).map((mechanism) => ({ mechanism, ...USERS[mechanism] })),
    },
  });
}, 180_000);

afterAll(async () => {
  if (brokerDir) await stopBroker(brokerDir);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The settings a deployment would give: TLS with a CA and a client certificate, and SASL. */
function secured(mechanism: Mechanism, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${saslSslPort}`,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: files.ca,
    KAFKA_SSL_CERT_FILE: files.cert,
    KAFKA_SSL_KEY_FILE: files.key,
    KAFKA_SSL_KEY_PASSPHRASE: files.passphrase,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: USERS[mechanism].username,
    KAFKA_SASL_PASSWORD: USERS[mechanism].password,
    ...overrides,
  };
}

/**
 * Connects an admin client with no retries, and the same ssl/sasl options every client gets; a
 * short request timeout because a plaintext request to a TLS listener is never answered.
 * Resolves to the error it failed with, or undefined.
 */
async function connectError(env: Record<string, string>): Promise<{ name: string; message: string } | undefined> {
  const kafka = new Kafka({ ...kafkaConnectionOptions(loadKafkaSettings(env)), clientId: 'crm-test-refused', logLevel: logLevel.NOTHING, requestTimeout: 3000, connectionTimeout: 3000, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('Kafka over SASL_SSL', () => {
  it('ingest (PLAIN), scoring (SCRAM-SHA-256), the publisher (SCRAM-SHA-512) and the CLI carry orders to stored rows and published segment events', { timeout: 300_000 }, async () => {
    const base = infra.env({ SCORING_HEALTH_PORT: '0', PUBLISHER_HEALTH_PORT: '0', PUBLISHER_POLL_MS: '200', SCORING_INTERVAL_SECONDS: '5' });
    const namespace = base.CRM_TOPIC_NAMESPACE;
    const admin = createKafka(loadKafkaSettings(secured('SCRAM-SHA-256', { CRM_TOPIC_NAMESPACE: namespace })), { clientId: 'crm-test', logger: createLogger('test', 'error') });
    await createTestTopics(admin, namespace);
    const envFor = (mechanism: Mechanism) => ({ ...base, ...secured(mechanism) });

    const orders = generateOrderEvents({ seed: 11, customers: 150, end: new Date(Date.now() - 86_400_000), idPrefix: 'tls', duplicateShare: 0 }).filter((e) => e.status === 'delivered');
    const file = join(dir, 'orders.csv');
    writeFileSync(file, ['customer_id,order_id,placed_at,total', ...orders.map((o) => `${o.customer_id},${o.order_id},${o.placed_at},${o.total}`)].join('\n') + '\n');

    const services: ServiceProcess[] = [];
    const clickhouse = createClickHouse({ CLICKHOUSE_URL: base.CLICKHOUSE_URL!, CLICKHOUSE_USER: base.CLICKHOUSE_USER!, CLICKHOUSE_PASSWORD: base.CLICKHOUSE_PASSWORD!, CLICKHOUSE_DATABASE: base.CLICKHOUSE_DATABASE });
    try {
      const ingest = spawnService('services/ingest/src/main.ts', envFor('PLAIN'));
      services.push(ingest);
      await ingest.waitForLog((l) => l.msg === 'ingest running', 120_000);

      // The CLI produces and then reads ingest's committed offsets (--wait), both over SASL_SSL.
      const imported = await runCli(['import', 'orders', '--file', file, '--format', 'csv', '--wait'], envFor('PLAIN'));
      expect(imported.stderr).toContain(`ingest accepted ${orders.length} of ${orders.length} sent orders; dead-lettered 0`);
      expect(imported.code, imported.stderr).toBe(0);
      const stored = await clickhouse.query({ query: 'SELECT count() AS n FROM orders', format: 'JSONEachRow' });
      expect(Number((await stored.json<{ n: string }>())[0]!.n)).toBe(orders.length);

      const scoring = spawnService('services/scoring/src/main.ts', envFor('SCRAM-SHA-256'));
      const publisher = spawnService('services/publisher/src/main.ts', envFor('SCRAM-SHA-512'));
      services.push(scoring, publisher);
      await scoring.waitForLog((l) => l.msg === 'scoring run done' && Number(l.buyers) > 0, 180_000);

      // What the publisher sent, read back by the CLI over SASL_SSL.
      const customers = new Set(orders.map((o) => o.customer_id));
      const tail = await waitUntil(
        () => runCli(['tail', 'crm.segment-changes.v1', '--max', '5'], envFor('SCRAM-SHA-512')),
        (run) => run.code === 0 && run.stdout.trim().split('\n').filter(Boolean).length === 5,
        120_000,
      );
      const published = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; event?: { customer_id: string } });
      for (const message of published) {
        expect(message.event, JSON.stringify(message)).toBeDefined();
        expect(customers.has(message.event!.customer_id) && message.key === message.event!.customer_id).toBe(true);
      }
      expect(services.every(isRunning)).toBe(true);
    } finally {
      for (const s of services) await s.kill('SIGTERM');
      await clickhouse.close();
    }
  });

  it('a wrong password stops a service at start-up with an error naming the settings, without retrying', { timeout: 120_000 }, async () => {
    const ingest = spawnService('services/ingest/src/main.ts', infra.env(secured('SCRAM-SHA-512', { KAFKA_SASL_PASSWORD: 'not-the-password' })));
    const code = await Promise.race([ingest.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 90_000))]);
    if (code === 'still running') await ingest.kill('SIGKILL');
    expect(code).toBe(1);
    const text = ingest.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).toContain('KAFKA_AUTH_FAILED');
    expect(text).toContain('KAFKA_SASL_PASSWORD');
    expect(text).not.toContain('not-the-password');
    expect(text).not.toMatch(/not available yet; retrying/);
  });

  it('every SASL mechanism connects with its credentials; a wrong password is refused as not retriable', async () => {
    for (const mechanism of Object.keys(USERS) as Mechanism[]) expect(await connectError(secured(mechanism)), mechanism).toBeUndefined();
    const refused = classifyKafkaError(await connectError(secured('SCRAM-SHA-256', { KAFKA_SASL_PASSWORD: 'wrong' })), 'connect');
    expect({ code: refused.code, retriable: refused.retriable }).toEqual({ code: 'KAFKA_AUTH_FAILED', retriable: false });
  });

  it('refuses a plaintext client, SASL without TLS, TLS without a client certificate, an untrusted client certificate, and a broker certificate nobody vouched for', async () => {
    const address = { KAFKA_BROKERS: `127.0.0.1:${saslSslPort}` };
    const refusals = {
      plaintext: await connectError(address),
      saslPlaintext: await connectError({ ...address, KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: USERS.PLAIN.username, KAFKA_SASL_PASSWORD: USERS.PLAIN.password }),
      noClientCertificate: await connectError(secured('PLAIN', { KAFKA_SSL_CERT_FILE: '', KAFKA_SSL_KEY_FILE: '', KAFKA_SSL_KEY_PASSPHRASE: '' })),
      untrustedClientCertificate: await connectError(secured('PLAIN', { KAFKA_SSL_CERT_FILE: files.strangerCert, KAFKA_SSL_KEY_FILE: files.strangerKey, KAFKA_SSL_KEY_PASSPHRASE: '' })),
    };
    // The listener speaks TLS only: a request in the clear is met with a closed connection.
    expect(refusals.plaintext?.message).toMatch(/Closed connection|Connection error/);
    expect(refusals.saslPlaintext?.message).toMatch(/Closed connection|Connection error/);
    for (const what of ['noClientCertificate', 'untrustedClientCertificate'] as const) {
      const refused = classifyKafkaError(refusals[what], 'connect');
      expect({ what, code: refused.code, retriable: refused.retriable }).toEqual({ what, code: 'KAFKA_AUTH_FAILED', retriable: false });
      expect(refused.message).toContain('KAFKA_SSL_CERT_FILE');
    }
    // The same client with the right certificate gets in: the refusals above are the missing pieces.
    expect(await connectError(secured('PLAIN'))).toBeUndefined();
    const untrusted = classifyKafkaError(await connectError(secured('PLAIN', { KAFKA_SSL_CA_FILE: '' })), 'connect');
    expect({ code: untrusted.code, retriable: untrusted.retriable }).toEqual({ code: 'KAFKA_AUTH_FAILED', retriable: false });
    expect(untrusted.message).toContain('KAFKA_SSL_CA_FILE');
  });
});
