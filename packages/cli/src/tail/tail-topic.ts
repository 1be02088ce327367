import type { Kafka, KafkaMessage } from 'kafkajs';
import { decodeEvent, SCHEMAS, SCHEMA_NAMES, type SchemaName } from '@crm/events';

/** What a person checking a topic wants to see of one message: decoded when we know its schema. */
export function describeMessage(topicBase: string, message: KafkaMessage, partition: number): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()]));
  const schema = SCHEMA_NAMES.find((name: SchemaName) => SCHEMAS[name].topic === topicBase);
  const base = { partition, offset: message.offset, key: message.key?.toString() ?? null };
  if (schema && message.value) {
    const decoded = decodeEvent(schema, message.value, (headers['content-type'] ?? 'application/json').split(';')[0]!.trim());
    if (decoded.ok) return { ...base, encoding: headers['content-type'], event: decoded.event };
    return { ...base, undecodable: decoded.rejection };
  }
  const text = message.value?.toString('utf8') ?? null;
  return { ...base, headers, value: text !== null && /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text) ? text : message.value?.toString('base64') };
}

/**
 * Prints a topic from the beginning up to its end as of now (or on, with
 * follow), one JSON object per line; commits nothing, so it never disturbs a service.
 */
export async function tailTopic(
  kafka: Kafka,
  options: { topic: string; topicBase: string; follow: boolean; max: number; write: (line: string) => void },
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(options.topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
  if (remaining.size === 0 && !options.follow) return 0;

  const consumer = kafka.consumer({ groupId: `crm-tail-${process.pid}-${Date.now()}` });
  let printed = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message, partition }) => {
      if (printed >= options.max) return finish();
      options.write(JSON.stringify(describeMessage(options.topicBase, message, partition)));
      printed++;
      if (!options.follow && Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) remaining.delete(partition);
      if ((!options.follow && remaining.size === 0) || printed >= options.max) finish();
    },
  });
  await done;
  await consumer.disconnect();
  return printed;
}
