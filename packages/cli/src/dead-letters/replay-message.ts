import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export interface ReplayTarget {
  topic: string;
  message: Message;
}

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();

/**
 * A dead letter back to the message its producer sent: same key, bytes and
 * headers, minus our `dlq.*` bookkeeping, plus where it was replayed from.
 * Undefined when the letter does not match the reason filter or lacks its source.
 */
export function replayTarget(letter: KafkaMessage, dlqPartition: number, reason: string | undefined): ReplayTarget | undefined {
  const topic = header(letter.headers, 'dlq.source.topic');
  const code = header(letter.headers, 'dlq.reason.code');
  if (topic === undefined || (reason !== undefined && code !== reason)) return undefined;
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.headers ?? {})) {
    if (!name.startsWith('dlq.') && value !== undefined) headers[name] = value;
  }
  headers['dlq.replayed_from'] = `${dlqPartition}/${letter.offset}`;
  return { topic, message: { key: letter.key, value: letter.value, headers } };
}
