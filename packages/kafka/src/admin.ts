import type { Kafka } from 'kafkajs';
import { CrmError, retry } from '@crm/runtime';

/**
 * Creates the topics that do not exist yet (existing ones are left as they are); returns the ones it created. A busy broker may answer a
 * fresh topic's metadata with UNKNOWN_TOPIC_OR_PARTITION while kafkajs waits for its leaders:
 * the whole step is idempotent, so it is tried again (the one retry policy, about half a minute)
 * and what a failed attempt already created counts as created.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], numPartitions: number): Promise<string[]> {
  const created = new Set<string>();
  await retry(
    async () => {
      for (const topic of await createMissingTopics(kafka, topics, numPartitions, created)) created.add(topic);
    },
    { retries: 8, initialDelayMs: 250, maxDelayMs: 5_000 },
  );
  return topics.filter((t) => created.has(t));
}

async function createMissingTopics(kafka: Kafka, topics: readonly string[], numPartitions: number, created: Set<string>): Promise<string[]> {
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
    return missing;
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
