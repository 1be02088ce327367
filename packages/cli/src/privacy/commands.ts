import type { ClickHouseClient } from '@crm/clickhouse';
import type { StackConfig } from '../stack/settings.js';
import { customerIdArgument, settleSecondsArgument } from './customer-id.js';

/** `crm export customer <id>`: the JSON document on standard output. */
export async function exportCommand(rest: readonly string[], clickhouse: ClickHouseClient, write: (text: string) => void): Promise<number> {
  const customerId = customerIdArgument('export', rest);
  const { exportCustomer } = await import('./export-customer.js');
  try {
    write(`${JSON.stringify(await exportCustomer(clickhouse, customerId), null, 2)}\n`);
  } finally {
    await clickhouse.close();
  }
  return 0;
}

/** `crm erase customer <id>`: erases, announces on crm.customer-erased.v1, and says what went where (counts only: no personal data). */
export async function eraseCommand(rest: readonly string[], settleSeconds: string | undefined, config: StackConfig, clickhouse: ClickHouseClient, say: (line: string) => void): Promise<number> {
  const customerId = customerIdArgument('erase', rest);
  const settleMs = settleSecondsArgument(settleSeconds) * 1000;
  const { createLogger, sleep } = await import('@crm/runtime');
  const { connectProducer, createKafka, createProducer, topicNames } = await import('@crm/kafka');
  const { eraseCustomer } = await import('@crm/ingest');
  const logger = createLogger('crm', 'error', 'stderr');
  const producer = createProducer(createKafka(config, { clientId: 'crm-erase', logger }));
  const topic = topicNames(config.CRM_TOPIC_NAMESPACE).customerErased;
  try {
    await connectProducer(producer, logger);
    const erasure = await eraseCustomer(clickhouse, customerId, {
      announce: async (message) => {
        await producer.send({ topic, acks: -1, messages: [message] });
      },
      settle: () => sleep(settleMs),
    });
    const total = Object.values(erasure.deleted).reduce((a, b) => a + b, 0);
    say(`erased ${total} rows (${erasure.anonymousIds.length} stitched anonymous ids) in ${erasure.ms} ms; announced on ${topic} as ${erasure.announcement.event_id}`);
    for (const [table, n] of Object.entries(erasure.deleted)) if (n > 0) say(`  ${table}: ${n}`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await clickhouse.close();
  }
  return 0;
}
