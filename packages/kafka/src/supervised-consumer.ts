import type { Consumer } from 'kafkajs';
import { CrmError, waitForDependency, type Logger, type Readiness } from '@crm/runtime';
import { classifyKafkaError } from './client.js';

export interface SupervisedConsumer {
  /** Settles once the first consumer has joined its group and runs (or start-up was aborted). */
  readonly started: Promise<void>;
  /** The consumer now running, if any (commits and seeks go to it). */
  current(): Consumer | undefined;
  stop(): Promise<void>;
}

/**
 * Keeps a consumer running for as long as the service runs: connects,
 * subscribes and runs it, waiting for the broker with the dependency backoff;
 * when kafkajs gives one up (a crash it will not restart) a new one replaces
 * it after a backoff, instead of the process exiting. Readiness follows it:
 * not ready until the group is joined, nor after a crash until it is again,
 * and fetches are its progress, so a consumer stuck in a batch past the
 * deadline reports not ready.
 */
export function superviseConsumer(options: {
  /** The readiness part, e.g. 'consumer'. */
  name: string;
  create: () => Consumer;
  /** Subscribes and runs the given consumer (connected already). */
  start: (consumer: Consumer) => Promise<void>;
  readiness: Readiness;
  progressDeadlineMs: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Told of each crash kafkajs gives up on (tests assert there is none). */
  onCrash?: (error: Error) => void;
}): SupervisedConsumer {
  const { name, readiness, logger } = options;
  const stopping = new AbortController();
  let consumer: Consumer | undefined;
  let wake: (() => void) | undefined;
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  stopping.signal.addEventListener('abort', () => wake?.(), { once: true });
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  readiness.expectProgress(name, options.progressDeadlineMs, 'a fetch');

  const life = async () => {
    if (stopping.signal.aborted) return;
    const c = options.create();
    consumer = c;
    readiness.notReady(name, 'connecting to Kafka and joining the group');
    const gone = new Promise<Error | undefined>((resolve) => {
      wake = () => resolve(undefined);
      c.on(c.events.CRASH, ({ payload }) => {
        readiness.notReady(name, `crashed: ${payload.error.message}`);
        if (payload.restart) logger.warn({ err: payload.error }, `${name} crashed; kafkajs restarts it`);
        else {
          options.onCrash?.(payload.error);
          resolve(payload.error);
        }
      });
    });
    c.on(c.events.GROUP_JOIN, () => {
      readiness.ready(name);
      readiness.progressed(name);
    });
    c.on(c.events.FETCH_START, () => readiness.progressed(name));
    try {
      await c.connect();
      await options.start(c);
    } catch (error) {
      await c.disconnect().catch(() => undefined);
      throw classifyKafkaError(error, `start ${name}`);
    }
    markStarted();
    const crash = await gone;
    if (stopping.signal.aborted) return;
    await c.disconnect().catch(() => undefined);
    // A consumer kafkajs gave up on is replaced, whatever the cause: the next one may fare better.
    throw new CrmError('KAFKA_UNAVAILABLE', `${name} crashed and was not restarted by kafkajs: ${crash?.message}`, { retriable: true, cause: crash });
  };
  const running = waitForDependency(name, life, { logger, signal: stopping.signal }).catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    // Not retriable (e.g. the broker refused our credentials): nothing gets better by waiting.
    readiness.notReady(name, `stopped for good: ${(error as Error).message}`);
    logger.fatal({ err: error }, `${name} cannot run`);
    throw error;
  });
  return {
    started: Promise.race([started, running.then(() => undefined)]),
    current: () => consumer,
    stop: async () => {
      stopping.abort();
      readiness.forget(name);
      await running.catch(() => undefined);
      await consumer?.disconnect().catch(() => undefined);
    },
  };
}
