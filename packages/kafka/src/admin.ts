import type { Kafka } from 'kafkajs';
import { CrmError, retry } from '@crm/runtime';

/**
 * Creates the topics that do not exist yet (existing ones are left as they are); returns the
 * ones it created. A busy broker may answer a fresh topic's metadata with
 * UNKNOWN_TOPIC_OR_PARTITION while kafkajs waits for its leaders, or "not the leader" just after:
 * the whole step is idempotent, so it is tried again (the one retry policy, about half a minute)
 * and what a failed attempt already created counts as created.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], numPartitions: number): Promise<string[]> {
  const created = new Set<string>();
  await retry(() => createMissingTopics(kafka, topics, numPartitions, created), { retries: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
  return topics.filter((t) => created.has(t));
}

/** One attempt: creates what is missing (adding it to `created`) and waits until every created topic is served. */
async function createMissingTopics(kafka: Kafka, topics: readonly string[], numPartitions: number, created: Set<string>): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // Counted before the wait for leaders, which is what fails on a busy broker.
      for (const topic of missing) created.add(topic);
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
    }
    // waitForLeaders sees the leaders in the metadata, but a partition's leader can still answer
    // "not the leader" for a moment (more likely the more partitions one request creates): the
    // topics are usable once each answers a ListOffsets; until then the step is tried again.
    for (const topic of created) await admin.fetchTopicOffsets(topic);
  } catch (error) {
    throw new CrmError('KAFKA_UNAVAILABLE', `could not create topics: ${(error as Error).message}`, { retriable: true, cause: error });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A topic's `max.message.bytes` (the largest record batch the broker takes for it), or
 * undefined when it cannot be read (the topic does not exist yet, or ACLs forbid it).
 */
export async function topicMaxMessageBytes(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    // 2 is ConfigResourceTypes.TOPIC; kafkajs's enum is not reachable from ESM.
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['max.message.bytes'] }] });
    const value = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  } finally {
    await admin.disconnect();
  }
}
