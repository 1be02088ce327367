import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ConfigError } from '@crm/runtime';
import { brokerList, type SASL_MECHANISMS } from './settings.js';

/** What a Kafka client needs of the settings (kafkaSettings): where the brokers are and how to reach them securely. */
export interface KafkaConnectionConfig {
  KAFKA_BROKERS: string;
  KAFKA_SSL?: boolean;
  KAFKA_SSL_CA_FILE?: Buffer | undefined;
  KAFKA_SSL_CERT_FILE?: Buffer | undefined;
  KAFKA_SSL_KEY_FILE?: Buffer | undefined;
  KAFKA_SSL_KEY_PASSPHRASE?: string | undefined;
  KAFKA_SSL_REJECT_UNAUTHORIZED?: boolean;
  KAFKA_SASL_MECHANISM?: (typeof SASL_MECHANISMS)[number] | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

/**
 * The one mapping of the settings onto kafkajs's `brokers`, `ssl` and `sasl`, for every client
 * the project makes. Settings that only make sense together are checked here, each problem
 * naming its setting, so a half-configured client stops at start-up instead of connecting
 * in the clear or failing later with a broker's terse refusal.
 */
export function kafkaConnectionOptions(config: KafkaConnectionConfig): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  const problems: string[] = [];
  const hasCert = config.KAFKA_SSL_CERT_FILE !== undefined;
  const hasKey = config.KAFKA_SSL_KEY_FILE !== undefined;
  if (hasCert !== hasKey) problems.push(hasCert ? 'KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_CERT_FILE: required with KAFKA_SSL_KEY_FILE');
  if (config.KAFKA_SSL_KEY_PASSPHRASE !== undefined && !hasKey) problems.push('KAFKA_SSL_KEY_PASSPHRASE: set, but KAFKA_SSL_KEY_FILE is not');
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism === undefined) {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (config[name] !== undefined) problems.push(`${name}: set, but KAFKA_SASL_MECHANISM is not (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)`);
    }
  } else {
    if (config.KAFKA_SASL_USERNAME === undefined) problems.push(`KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is ${mechanism.toUpperCase()}`);
    if (config.KAFKA_SASL_PASSWORD === undefined) problems.push(`KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is ${mechanism.toUpperCase()}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  // A CA or a client certificate only means anything over TLS: giving one asks for it.
  const tls = config.KAFKA_SSL === true || config.KAFKA_SSL_CA_FILE !== undefined || hasCert;
  const ssl = tls
    ? {
        rejectUnauthorized: config.KAFKA_SSL_REJECT_UNAUTHORIZED ?? true,
        ...(config.KAFKA_SSL_CA_FILE && { ca: [config.KAFKA_SSL_CA_FILE] }),
        ...(config.KAFKA_SSL_CERT_FILE && { cert: config.KAFKA_SSL_CERT_FILE }),
        ...(config.KAFKA_SSL_KEY_FILE && { key: config.KAFKA_SSL_KEY_FILE }),
        ...(config.KAFKA_SSL_KEY_PASSPHRASE !== undefined && { passphrase: config.KAFKA_SSL_KEY_PASSPHRASE }),
      }
    : undefined;
  const sasl: SASLOptions | undefined =
    mechanism === undefined ? undefined : ({ mechanism, username: config.KAFKA_SASL_USERNAME!, password: config.KAFKA_SASL_PASSWORD! } as SASLOptions);
  return { brokers: brokerList(config.KAFKA_BROKERS), ...(ssl && { ssl }), ...(sasl && { sasl }) };
}
