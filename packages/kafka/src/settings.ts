import { z } from 'zod';
import { setting } from '@crm/runtime';

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
