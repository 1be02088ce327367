import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export interface ReplayTarget {
  topic: string;
  message: Message;
}

/** Why a dead letter is not replayed although it matches the reason filter. */
export type Unreplayable = 'not_an_input_topic' | 'truncated';

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();

/**
 * A dead letter back to the message its producer sent: same key, bytes and
 * headers, minus our `dlq.*` bookkeeping, plus where it was replayed from.
 * Undefined when the letter does not match the reason filter. A letter whose
 * `dlq.source.topic` is not one of the namespace's input topics is refused
 * (anyone who can write the dead-letter topic could otherwise make the replay
 * write anywhere), and so is one cut down to a prefix (`dlq.truncated`): its
 * original bytes are gone.
 */
export function replayTarget(
  letter: KafkaMessage,
  dlqPartition: number,
  reason: string | undefined,
  inputTopics: ReadonlySet<string>,
): ReplayTarget | { refused: Unreplayable } | undefined {
  const topic = header(letter.headers, 'dlq.source.topic');
  const code = header(letter.headers, 'dlq.reason.code');
  if (reason !== undefined && code !== reason) return undefined;
  if (topic === undefined || !inputTopics.has(topic)) return { refused: 'not_an_input_topic' };
  if (header(letter.headers, 'dlq.truncated') === 'true') return { refused: 'truncated' };
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.headers ?? {})) {
    if (!name.startsWith('dlq.') && value !== undefined) headers[name] = value;
  }
  headers['dlq.replayed_from'] = `${dlqPartition}/${letter.offset}`;
  return { topic, message: { key: letter.key, value: letter.value, headers } };
}
