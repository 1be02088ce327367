import { inject } from 'vitest';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createKafka, createProducer, ensureTopics, topicNames, type TopicNames } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { encodeEvent, type EventsByName } from '@crm/events';
import { INPUT_NAMES, type InputName } from '@crm/sample-data';

export function testKafka(): Kafka {
  return createKafka({ KAFKA_BROKERS: inject('kafkaBrokers') }, { clientId: 'crm-test', logger: createLogger('test', 'error') });
}

export async function createTestTopics(kafka: Kafka, namespace: string, partitions = 3): Promise<TopicNames> {
  const topics = topicNames(namespace);
  await ensureTopics(kafka, Object.values(topics), partitions);
  return topics;
}

export interface Outgoing {
  key: string;
  value: string | Buffer;
  headers?: Record<string, string>;
}

export async function produce(kafka: Kafka, topic: string, messages: readonly Outgoing[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.slice(i, i + 500).map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers ?? { 'content-type': 'application/json' },
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads a topic from the beginning until `enough` says so (or the timeout
 * passes). Delivery is at-least-once, so callers judge by what they need to
 * see, not by a message count.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  enough: (received: KafkaMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  const received: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
        if (enough(received)) resolve();
      },
    });
    setTimeout(resolve, timeoutMs);
  });
  await done;
  await consumer.disconnect();
  return received;
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  return value === undefined ? undefined : value.toString();
}

/** Sum over partitions of a group's committed offsets: how many messages it has durably handled. */
export async function committedMessages(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics }).catch(() => []);
    return offsets.reduce((n, t) => n + t.partitions.reduce((m, p) => m + Math.max(0, Number(p.offset)), 0), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Input events as messages keyed by customer (or anonymous id); 'alternate': JSON and Avro by turns, so both paths carry every kind. */
export function encodeInputEvents<N extends InputName>(name: N, events: readonly EventsByName[N][], encoding: 'json' | 'alternate' = 'alternate'): Outgoing[] {
  return events.map((event, i) => {
    const as = encoding === 'json' || i % 2 === 0 ? 'json' : 'avro';
    const e = event as { customer_id: string | null; anonymous_id?: string };
    return { key: e.customer_id ?? e.anonymous_id!, value: encodeEvent(name, event, as), headers: { 'content-type': `application/${as}` } };
  });
}

/** Produces a sample's four kinds to their topics, adding each event id to `expected`; returns how many were produced. */
export async function produceSample(
  kafka: Kafka,
  topics: TopicNames,
  sample: { [N in InputName]: EventsByName[N][] },
  expected: Record<InputName, Set<string>>,
  encoding: 'json' | 'alternate' = 'alternate',
): Promise<number> {
  await Promise.all(
    INPUT_NAMES.map((name) => {
      const events = sample[name] as EventsByName[typeof name][];
      for (const e of events) expected[name].add(e.event_id);
      return produce(kafka, topics[name], encodeInputEvents(name, events, encoding));
    }),
  );
  return INPUT_NAMES.reduce((n, name) => n + sample[name].length, 0);
}
