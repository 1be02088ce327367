import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { FETCH_MAX_WAIT_MS, groupId, superviseConsumer } from '@crm/kafka';
import { Readiness, type Logger } from '@crm/runtime';

/**
 * Follows scoring's commit notices (the outbox-commits topic) and calls
 * `onNotice` for each, and once on joining, for marks written before it
 * joined. Its group is this process's own and commits nothing, so a second
 * publisher is woken too and the broker forgets the group when it leaves.
 * The publisher polls anyway: this only makes it sooner, so the reader's
 * state is not part of the publisher's readiness.
 */
export function followCommitNotices(kafka: Kafka, options: { namespace: string; topic: string; logger: Logger; onNotice: () => void }): { stop(): Promise<void> } {
  const group = groupId(options.namespace, `crm-publisher.commit-notices.${randomUUID()}`);
  const consumer = superviseConsumer({
    name: 'commit-notice reader',
    readiness: new Readiness(),
    progressDeadlineMs: 60_000,
    logger: options.logger,
    create: () => {
      const c = kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
      c.on(c.events.GROUP_JOIN, () => options.onNotice());
      return c;
    },
    start: async (current) => {
      await current.subscribe({ topics: [options.topic], fromBeginning: false });
      await current.run({ autoCommit: false, eachBatch: async ({ batch }) => void (batch.messages.length > 0 && options.onNotice()) });
    },
  });
  return { stop: () => consumer.stop() };
}

/** A sleep that `wake` ends at once; a wake while nobody sleeps ends the next sleep at once. */
export function createAlarm(): { wake(): void; sleep(ms: number, signal?: AbortSignal): Promise<void> } {
  let rung = false;
  let ring: (() => void) | undefined;
  return {
    wake() {
      if (ring) ring();
      else rung = true;
    },
    sleep(ms, signal) {
      if (rung || signal?.aborted) {
        rung = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          ring = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        ring = done;
      });
    },
  };
}
