import { Kafka, Partitioners, logLevel, type Producer, type logCreator } from 'kafkajs';
import type { Logger } from '@crm/runtime';
import { registerCompressionCodecs } from './codecs.js';

/** kafkajs logs through the service's pino logger, so every line is structured. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const child = { ...extra, kafka: true };
      if (level === logLevel.ERROR) logger.error(child, message);
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
