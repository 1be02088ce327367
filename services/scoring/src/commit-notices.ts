import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '@crm/runtime';

export interface CommitNotices {
  /** Tells the publisher a commit mark was written; never waits, never throws. */
  notify(changedAt: Date): void;
  close(): Promise<void>;
}

/**
 * Sends a notice to the outbox-commits topic after each commit mark, so the
 * publisher publishes it at once rather than at its next poll. A notice is
 * only a hint: the publisher still reads the marks themselves, and polls
 * anyway, so a notice lost (broker down, topic missing) costs latency, never
 * an event. At most one send is in flight; marks written meanwhile share the
 * next notice, so a broker that is down holds up nothing and piles up nothing.
 */
export function createCommitNotices(kafka: Kafka, topic: string, logger: Logger): CommitNotices {
  // No idempotence and few retries: a late notice is worth nothing, the poll covers it.
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 2, initialRetryTime: 100 },
  });
  let connected: Promise<void> | undefined;
  let sending: Promise<void> | undefined;
  let newest: Date | undefined;
  let failing = false;
  let closed = false;

  const sendNewest = async () => {
    while (newest && !closed) {
      const changedAt = newest;
      newest = undefined;
      try {
        connected ??= producer.connect();
        await connected;
        await producer.send({ topic, acks: 1, messages: [{ value: changedAt.toISOString() }] });
        if (failing) logger.info('commit notices are sent again');
        failing = false;
      } catch (error) {
        connected = undefined;
        // Once per run of failures: the publisher's poll carries on meanwhile.
        if (!failing) logger.warn({ err: error }, 'could not send a commit notice; the publisher finds the mark at its next poll');
        failing = true;
      }
    }
    sending = undefined;
  };

  return {
    notify(changedAt) {
      if (closed) return;
      newest = changedAt;
      sending ??= sendNewest();
    },
    async close() {
      closed = true;
      await sending;
      await producer.disconnect().catch(() => undefined);
    },
  };
}
