import type { Kafka } from 'kafkajs';
import { CrmError } from '@crm/runtime';

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
    }
    return missing;
  } catch (error) {
    throw new CrmError('KAFKA_UNAVAILABLE', `could not create topics: ${(error as Error).message}`, { retriable: true, cause: error });
  } finally {
    await admin.disconnect();
  }
}
