import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { SuppressionList } from '@crm/clickhouse';

export interface ReplayTarget {
  topic: string;
  message: Message;
}

/** Why a dead letter is not replayed although it matches the reason filter. */
export type Unreplayable = 'not_an_input_topic' | 'truncated' | 'erased';

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();

/**
 * A dead letter back to the message its producer sent: same key, bytes and
 * headers, minus our `dlq.*` bookkeeping, plus where it was replayed from.
 * Undefined when the letter does not match the reason filter. A letter whose
 * `dlq.source.topic` is not one of the namespace's input topics is refused
 * (anyone who can write the dead-letter topic could otherwise make the replay
 * write anywhere), and so is one cut down to a prefix (`dlq.truncated`): its
 * original bytes are gone. A letter of an erased customer is dropped (docs/PRIVACY.md): its key
 * or, in a JSON value, its customer_id or anonymous_id is on the suppression list.
 */
export function replayTarget(
  letter: KafkaMessage,
  dlqPartition: number,
  reason: string | undefined,
  inputTopics: ReadonlySet<string>,
  suppression?: SuppressionList,
): ReplayTarget | { refused: Unreplayable } | undefined {
  const topic = header(letter.headers, 'dlq.source.topic');
  const code = header(letter.headers, 'dlq.reason.code');
  if (reason !== undefined && code !== reason) return undefined;
  if (topic === undefined || !inputTopics.has(topic)) return { refused: 'not_an_input_topic' };
  if (header(letter.headers, 'dlq.truncated') === 'true') return { refused: 'truncated' };
  if (suppression && namesErased(letter, suppression)) return { refused: 'erased' };
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(letter.headers ?? {})) {
    if (!name.startsWith('dlq.') && value !== undefined) headers[name] = value;
  }
  headers['dlq.replayed_from'] = `${dlqPartition}/${letter.offset}`;
  return { topic, message: { key: letter.key, value: letter.value, headers } };
}

/** Whether a dead letter carries an erased id: as its key, or as a JSON value's customer_id or anonymous_id (a bad value may still name one). */
export function namesErased(letter: Pick<KafkaMessage, 'key' | 'value'>, list: SuppressionList): boolean {
  if (list.customers.size === 0 && list.anonymous.size === 0) return false;
  const key = letter.key?.toString();
  if (key !== undefined && (list.customers.has(key) || list.anonymous.has(key))) return true;
  let value: unknown;
  try {
    value = JSON.parse(letter.value?.toString() ?? '');
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  const { customer_id: customer, anonymous_id: anonymous } = value as Record<string, unknown>;
  return (typeof customer === 'string' && list.customers.has(customer)) || (typeof anonymous === 'string' && list.anonymous.has(anonymous));
}
