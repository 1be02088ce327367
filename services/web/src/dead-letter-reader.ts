import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { FETCH_MAX_WAIT_MS, groupId, superviseConsumer } from '@crm/kafka';
import { Readiness, type Logger } from '@crm/runtime';
import { deadLetterFacts, DeadLetterTally, type DeadLetterSummary } from './dead-letters.js';

export interface DeadLetterReader {
  /** undefined until the reader has joined the topic (the broker may be down: it waits and retries). */
  summary(): DeadLetterSummary | undefined;
  stop(): Promise<void>;
}

/**
 * Reads the dead-letter topic from its start, in the background, into a tally for the Pipeline
 * page. Its group is this process's own and commits nothing, so every start counts the whole
 * topic again and two dashboards do not split it; the broker forgets an empty group with no offsets.
 */
export function readDeadLetters(kafka: Kafka, options: { namespace: string; topic: string; logger: Logger }): DeadLetterReader {
  const tally = new DeadLetterTally();
  let joined = false;
  const group = groupId(options.namespace, `crm-web.dead-letters.${randomUUID()}`);
  const consumer = superviseConsumer({
    name: 'dead-letter reader',
    // The dashboard is up whether or not Kafka is: this readiness is the reader's alone.
    readiness: new Readiness(),
    progressDeadlineMs: 60_000,
    logger: options.logger,
    create: () => kafka.consumer({ groupId: group, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }),
    start: async (current) => {
      await current.subscribe({ topics: [options.topic], fromBeginning: true });
      await current.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) tally.add(batch.partition, m.offset, deadLetterFacts(m.headers, m.value));
        },
      });
      joined = true;
    },
  });
  return {
    summary: () => (joined ? tally.summary() : undefined),
    stop: () => consumer.stop(),
  };
}
