import type { Kafka } from 'kafkajs';
import { CrmError, sleep } from '@crm/runtime';

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], numPartitions: number): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
      // waitForLeaders sees the leaders in the metadata, but a partition's leader can still answer
      // "not the leader" for a moment (more likely the more partitions one request creates):
      // the topics are usable once each answers a ListOffsets.
      for (const topic of missing) await untilServed(() => admin.fetchTopicOffsets(topic));
    }
    return missing;
  } catch (error) {
    throw new CrmError('KAFKA_UNAVAILABLE', `could not create topics: ${(error as Error).message}`, { retriable: true, cause: error });
  } finally {
    await admin.disconnect();
  }
}

async function untilServed(request: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await request();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
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
