import type { Kafka } from 'kafkajs';
import type { ClickHouseClient } from '@crm/clickhouse';
import { TOPIC_BASE_NAMES, type TopicNames } from '@crm/kafka';
import { CUSTOMER_AT_RISK, publisherBacklog, SEGMENT_CHANGES } from '@crm/publisher';
import { sleep } from '@crm/runtime';
import { tailTopic } from '../tail/tail-topic.js';

/**
 * Waits until the publisher has sent every committed write to both topics: each commit mark
 * in outbox_commits is in publisher_marks for each stream (recorded only after Kafka
 * acknowledged its rows), so afterwards the topics show everything that was decided.
 */
export async function waitForPublisher(
  clickhouse: ClickHouseClient,
  options: { timeoutMs: number; say: (line: string) => void },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const backlog = await Promise.all([SEGMENT_CHANGES, CUSTOMER_AT_RISK].map((stream) => publisherBacklog(clickhouse, stream)));
    const marks = Math.max(...backlog.map((b) => b.marks));
    const pending = Math.max(...backlog.map((b) => b.pending));
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} of ${marks} committed writes were not published in time; is the publisher running? (crm status)`);
    options.say(`published ${marks - pending}/${marks} committed writes`);
    await sleep(1000);
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
