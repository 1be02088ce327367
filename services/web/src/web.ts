import { createClickHouse } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';
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
export async function startWeb(config: WebConfig, logger: Logger): Promise<RunningWeb> {
  const clickhouse = createClickHouse(config);
  const app = buildServer({ clickhouse, token: config.CRM_WEB_TOKEN, logger });
  await app.listen({ host: config.CRM_WEB_HOST, port: config.CRM_WEB_PORT });
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
      await clickhouse.close();
    },
  };
}
