import type { Kafka } from 'kafkajs';
import type { ClickHouseClient } from '@crm/clickhouse';
import { TOPIC_BASE_NAMES, type TopicNames } from '@crm/kafka';
import { sleep } from '@crm/runtime';
import { tailTopic } from '../tail/tail-topic.js';

/**
 * Waits until the publisher has sent every committed segment change: the
 * segment-changes topic holds at least as many messages as the outbox has
 * committed rfm, lifecycle and tier rows (each is published at least once).
 * The publisher sends each commit's risk decisions in the same pass, so
 * afterwards the at-risk topic shows what was sent.
 */
export async function waitForPublisher(
  kafka: Kafka,
  clickhouse: ClickHouseClient,
  topics: TopicNames,
  options: { timeoutMs: number; say: (line: string) => void },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const result = await clickhouse.query({
        query: `SELECT count() AS n FROM segment_changes
                WHERE segment_type IN ('rfm', 'lifecycle', 'tier') AND changed_at <= (SELECT max(changed_at) FROM outbox_commits)`,
        format: 'JSONEachRow',
      });
      const recorded = Number((await result.json<{ n: string | number }>())[0]?.n ?? 0);
      const sent = (await admin.fetchTopicOffsets(topics.segmentChanges)).reduce((n, p) => n + Number(p.high), 0);
      if (sent >= recorded) return;
      if (Date.now() > deadline) throw new Error(`only ${sent} of ${recorded} segment changes were published in time; is the publisher running? (crm status)`);
      options.say(`published ${sent}/${recorded} segment changes`);
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
}

/** What crm.customer-at-risk.v1 holds: distinct alerts (event ids) and the customers they name. */
export async function sentAlerts(kafka: Kafka, topics: TopicNames): Promise<{ alerts: number; customers: number }> {
  const ids = new Set<string>();
  const customers = new Set<string>();
  await tailTopic(kafka, {
    topic: topics.customerAtRisk,
    topicBase: TOPIC_BASE_NAMES.customerAtRisk,
    follow: false,
    max: Number.MAX_SAFE_INTEGER,
    write: (line) => {
      const { event } = JSON.parse(line) as { event?: { event_id: string; customer_id: string } };
      if (!event) return;
      ids.add(event.event_id);
      customers.add(event.customer_id);
    },
  });
  return { alerts: ids.size, customers: customers.size };
}
