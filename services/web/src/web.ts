import type { Admin } from 'kafkajs';
import { createClickHouse } from '@crm/clickhouse';
import { createKafka, groupId, INPUT_STREAMS, topicNames } from '@crm/kafka';
import type { FastifyInstance } from 'fastify';
import { createLogger, CrmError, waitForDependency, type Logger } from '@crm/runtime';
import { readDeadLetters } from './dead-letter-reader.js';
import { consumerLag } from './lag.js';
import type { WebConfig } from './config.js';
import { buildServer } from './server.js';

export interface RunningWeb {
  /** The address it listens on, without the token. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the dashboard and API. ClickHouse is not needed to start: pages and
 * /api/health answer 503 until it is reachable, and work as soon as it is.
 */
export async function startWeb(config: WebConfig, logger: Logger, signal?: AbortSignal): Promise<RunningWeb> {
  const clickhouse = createClickHouse(config);
  const kafka = createKafka(config, { clientId: 'crm-web', logger: createLogger('web-kafka', 'error') });
  // Connected on the first Pipeline page, and again after a failure; never needed to start.
  let admin: Admin | undefined;
  let connected: Promise<Admin> | undefined;
  const connect = () => {
    connected ??= (async () => {
      // No retries of its own: the next Pipeline page is the retry, and a stop has no attempt to wait out.
      admin = kafka.admin({ retry: { retries: 0 } });
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return connected;
  };
  const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
  const inputs = INPUT_STREAMS.map((stream) => topics[stream]);
  const lag = () => consumerLag(connect, groupId(config.CRM_TOPIC_NAMESPACE, config.INGEST_GROUP_ID), inputs);
  const deadLetters = readDeadLetters(kafka, { namespace: config.CRM_TOPIC_NAMESPACE, topic: topics.deadLetter, logger });
  const build = () => buildServer({ clickhouse, token: config.CRM_WEB_TOKEN, logger, lag, deadLetters: () => deadLetters.summary() });
  let app: FastifyInstance;
  try {
    // A port another program holds is a dependency that is not there yet: wait for it, as for a broker.
    app = await waitForDependency('dashboard port (CRM_WEB_PORT)', () => listen(build, config.CRM_WEB_HOST, config.CRM_WEB_PORT), { logger, ...(signal && { signal }) });
  } catch (error) {
    await deadLetters.stop();
    await clickhouse.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.CRM_WEB_PORT;
  const host = config.CRM_WEB_HOST.includes(':') ? `[${config.CRM_WEB_HOST}]` : config.CRM_WEB_HOST;
  const url = `http://${host}:${port}/`;
  // `crm status` reads webPort from this line; the token is never logged.
  logger.info({ url, webPort: port, tokenRequired: config.CRM_WEB_TOKEN !== undefined }, 'listening');
  return {
    url,
    port,
    stop: async () => {
      await app.close();
      await deadLetters.stop();
      await clickhouse.close();
      // Also ends a connection attempt still retrying, rather than waiting it out.
      await admin?.disconnect();
    },
  };
}

/** Listens with a fresh server (a fastify instance that failed to listen is not reused); a taken port is retriable. */
export async function listen(build: () => FastifyInstance, host: string, port: number): Promise<FastifyInstance> {
  const app = build();
  try {
    await app.listen({ host, port });
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    // `crm status` shows this message while the service waits.
    throw new CrmError('PORT_IN_USE', `port ${port} on ${host} is in use by another program; waiting for it to be free (or set CRM_WEB_PORT)`, { retriable: true, cause: error });
  }
}
