import type { IHeaders, Message } from 'kafkajs';
import type { Rejection } from '@crm/events';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders | undefined;
}

/**
 * The original bytes, key and headers, plus `dlq.*` headers saying where the
 * message came from and why it was refused — enough to replay it unchanged.
 */
export function deadLetterMessage(source: DeadLetterSource, rejection: Rejection, failedAt: Date): Message {
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...(source.headers ?? {}),
      'dlq.source.topic': source.topic,
      'dlq.source.partition': String(source.partition),
      'dlq.source.offset': source.offset,
      'dlq.reason.code': rejection.code,
      'dlq.reason.path': rejection.path,
      'dlq.reason.message': rejection.message,
      'dlq.failed_at': failedAt.toISOString(),
    },
  };
}
