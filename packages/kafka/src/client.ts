import { Kafka, Partitioners, logLevel, type Producer, type logCreator } from 'kafkajs';
import { CrmError, waitForDependency, type Logger } from '@crm/runtime';
import { registerCompressionCodecs } from './codecs.js';

/** kafkajs logs through the service's pino logger, so every line is structured. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, stack, ...extra } = log as typeof log & { stack?: unknown };
      // A stack's first line repeats its error's message; the frames are what helps.
      const frames = typeof stack === 'string' ? stack.split('\n').filter((line) => line.startsWith('    at ')).join('\n') : undefined;
      const child = { ...extra, ...(frames && { stack: frames }), kafka: true };
      // kafkajs logs a broker's error response (a coordinator still loading on a fresh broker, a
      // leader moving) at error level and then retries it: a warning, not something to page on.
      const retriedResponse = level === logLevel.ERROR && typeof message === 'string' && message.startsWith('Response ');
      if (level === logLevel.ERROR && !retriedResponse) logger.error(child, message);
      else if (retriedResponse) logger.warn(child, message);
      else if (level === logLevel.WARN) logger.warn(child, message);
      else if (level === logLevel.INFO) logger.debug(child, message);
      else logger.trace(child, message);
    };
}

/** Every client the project makes comes from here, so each one reads batches in every codec Kafka has. */
export function createKafka(options: { brokers: string[]; clientId: string; logger: Logger }): Kafka {
  registerCompressionCodecs();
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(options.logger),
    retry: { initialRetryTime: 300, retries: 10 },
  });
}

/**
 * The one way the project produces: idempotent, acks from all replicas, the
 * murmur2 partitioner (Java-compatible, so keys land where other clients put
 * them). An idempotent producer retries without limit: giving up could reorder
 * a customer's events.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}

/** kafkajs errors that mean "the broker is not there (yet)", though kafkajs marks some as final after its own retries. */
const UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

/** Wraps a Kafka failure in a CrmError that says whether waiting for the broker can help. */
export function classifyKafkaError(error: unknown, what: string): CrmError {
  if (error instanceof CrmError) return error;
  const e = error as { name?: string; message?: string; retriable?: boolean } | undefined;
  const retriable = e?.retriable === true || UNAVAILABLE.has(e?.name ?? '');
  return new CrmError('KAFKA_UNAVAILABLE', `${what}: ${e?.message ?? String(error)}`, { retriable, cause: error });
}

/** Connects a producer, waiting for the broker with the dependency backoff for as long as it takes (or until `signal`). */
export async function connectProducer(producer: Producer, logger: Logger, signal?: AbortSignal): Promise<void> {
  await waitForDependency('Kafka (producer)', () => producer.connect(), {
    logger,
    ...(signal && { signal }),
    classify: (e) => classifyKafkaError(e, 'connect the producer'),
  });
}
