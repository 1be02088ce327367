import { Kafka, Partitioners, logLevel, type Producer, type logCreator } from 'kafkajs';
import { CrmError, waitForDependency, type Logger } from '@crm/runtime';
import { registerCompressionCodecs } from './codecs.js';
import { kafkaConnectionOptions, type KafkaConnectionConfig } from './security.js';

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

/**
 * Every client the project makes comes from here, so each one reads batches in every codec Kafka
 * has and reaches the brokers with the configured TLS and SASL. Throws a ConfigError for settings
 * that do not go together (security.ts).
 */
export function createKafka(config: KafkaConnectionConfig, options: { clientId: string; logger: Logger }): Kafka {
  const connection = kafkaConnectionOptions(config);
  registerCompressionCodecs();
  return new Kafka({
    clientId: options.clientId,
    ...connection,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(options.logger),
    retry: { initialRetryTime: 300, retries: 10 },
  });
}

/**
 * The longest a consumer's fetch waits on the broker for data. kafkajs's `stop()` waits for the
 * fetch in flight, and on a quiet topic a fetch lasts this long, so its default of 5 s made
 * stopping a service (SIGTERM, a rebalance's hand-over) take up to 5 s per consumer. Data that
 * arrives still answers a fetch at once; an idle consumer asks once a second, which a broker
 * does not notice.
 */
export const FETCH_MAX_WAIT_MS = 1000;

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

/** Node's codes for a broker certificate that does not verify against the configured CA. */
const CERTIFICATE_REJECTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The TLS alerts of a broker that requires a client certificate and did not get one it trusts.
 * Node names them after OpenSSL's reason: ERR_SSL_SSLV3_ALERT_… before OpenSSL 3.2 (Node 20),
 * ERR_SSL_SSL/TLS_ALERT_… since (Node 24).
 */
const CLIENT_CERTIFICATE_REFUSED = /^ERR_SSL_(SSLV3|SSL\/TLS|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_REQUIRED|UNKNOWN_CA)$/;

type KafkaJsError = { name?: string; message?: string; retriable?: boolean; code?: unknown; type?: unknown; originalError?: unknown; cause?: unknown };

/** kafkajs wraps the error that ended its retries (originalError); the reason is at the bottom. */
function errorChain(error: unknown): KafkaJsError[] {
  const chain: KafkaJsError[] = [];
  for (let e = error as KafkaJsError | undefined; e && typeof e === 'object' && chain.length < 6; e = (e.originalError ?? e.cause) as KafkaJsError | undefined) chain.push(e);
  return chain;
}

/** The group coordinator's answers to a commit from a member whose partitions are being (or were) reassigned. */
const MEMBERSHIP_CHANGED = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/**
 * Whether a commit failed because the group is rebalancing or moved on without this member:
 * the partition's next owner reads from the committed offset, so the data is not lost.
 */
export function isGroupMembershipChange(error: unknown): boolean {
  return errorChain(error).some((e) => typeof e.type === 'string' && MEMBERSHIP_CHANGED.has(e.type));
}

/**
 * Wraps a Kafka failure in a CrmError that says whether waiting for the broker can help. Refused
 * credentials and a broker certificate that does not verify are configuration, not an outage:
 * not retriable, and the message names the settings to look at.
 */
export function classifyKafkaError(error: unknown, what: string): CrmError {
  if (error instanceof CrmError) return error;
  const chain = errorChain(error);
  const auth = chain.find((c) => c.name === 'KafkaJSSASLAuthenticationError' || c.type === 'SASL_AUTHENTICATION_FAILED' || c.type === 'UNSUPPORTED_SASL_MECHANISM');
  if (auth) {
    return new CrmError('KAFKA_AUTH_FAILED', `${what}: the broker refused the SASL credentials (check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD): ${auth.message}`, { cause: error });
  }
  const certificate = chain.find((c) => typeof c.code === 'string' && CERTIFICATE_REJECTED.has(c.code));
  if (certificate) {
    return new CrmError('KAFKA_AUTH_FAILED', `${what}: the broker's TLS certificate was not accepted (${String(certificate.code)}; check KAFKA_SSL_CA_FILE and the broker's address)`, { cause: error });
  }
  const refusedCertificate = chain.find((c) => typeof c.code === 'string' && CLIENT_CERTIFICATE_REFUSED.test(c.code));
  if (refusedCertificate) {
    return new CrmError('KAFKA_AUTH_FAILED', `${what}: the broker refused the client certificate (${String(refusedCertificate.code)}; check KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE)`, { cause: error });
  }
  const e = error as KafkaJsError | undefined;
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
