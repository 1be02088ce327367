import { z } from 'zod';
import { loadConfig, setting, type Env } from '@crm/runtime';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/**
 * TLS and SASL towards the brokers (docs/PRIVACY.md, "Transport security"). Files are read once
 * at start-up; security.ts checks how the settings go together and maps them onto kafkajs.
 */
const kafkaSecuritySettings = {
  /** TLS to the brokers; on by itself when a CA or client certificate is given. */
  KAFKA_SSL: setting.boolean(false),
  /** PEM CA bundle the brokers' certificates must chain to; unset: Node's built-in CAs. */
  KAFKA_SSL_CA_FILE: setting.file(),
  /** PEM client certificate (and its chain) for brokers that require one (ssl.client.auth=required). */
  KAFKA_SSL_CERT_FILE: setting.file(),
  /** PEM private key of KAFKA_SSL_CERT_FILE. */
  KAFKA_SSL_KEY_FILE: setting.file(),
  /** Passphrase of an encrypted KAFKA_SSL_KEY_FILE. */
  KAFKA_SSL_KEY_PASSPHRASE: z.string().optional(),
  /** false accepts any broker certificate: for a test broker only, never in production. */
  KAFKA_SSL_REJECT_UNAUTHORIZED: setting.boolean(true),
  /** PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (any case); unset: no SASL. */
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(SASL_MECHANISMS, { error: 'expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512' }))
    .optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

/** Kafka settings shared by every service and the CLI. */
export const kafkaSettings = {
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'expected host:port[,host:port…]')
    .default(`127.0.0.1:${process.env.CRM_KAFKA_PORT || '9092'}`),
  /** Prefix for every topic and consumer group, e.g. to keep test runs apart on one broker. */
  CRM_TOPIC_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, underscore and dash only')
    .default(''),
  CRM_TOPIC_PARTITIONS: setting.positiveInt(6),
  ...kafkaSecuritySettings,
};

/**
 * The ingest service's consumer group. Ingest commits an offset only after its
 * rows are written, so other services (incremental scoring, the CLI's import)
 * read its committed offsets to know what is queryable in ClickHouse.
 */
export const ingestGroupSettings = {
  INGEST_GROUP_ID: z.string().min(1).default('crm-ingest'),
};

export function brokerList(brokers: string): string[] {
  return brokers.split(',');
}

export function groupId(namespace: string, group: string): string {
  return namespace === '' ? group : `${namespace}.${group}`;
}

/** The Kafka settings alone, for tools that need nothing else (tests, benchmarks). */
export function loadKafkaSettings(env: Env = process.env) {
  return loadConfig(z.object(kafkaSettings), env);
}
