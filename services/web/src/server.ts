import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { ClickHouseClient } from '@crm/clickhouse';
import { classifyClickHouseError } from '@crm/clickhouse';
import { isRetriable, type Logger } from '@crm/runtime';
import * as api from './api.js';
import { presentedToken, tokenAccepted } from './auth.js';
import type { DeadLetterSummary } from './dead-letters.js';
import type { TopicLag } from './lag.js';
import { OPENAPI } from './openapi.js';
import { atRiskPage, customerPage, overview, pipelinePage } from './pages.js';
import { page, html } from './html.js';

const require = createRequire(import.meta.url);

/** Static files, read once: our stylesheet and chart glue, and ECharts from our own node_modules (never a CDN). */
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'echarts.min.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('echarts/dist/echarts.min.js')) },
  'charts.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/charts.js', import.meta.url)) },
  'style.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/style.css', import.meta.url)) },
};

export interface WebOptions {
  clickhouse: ClickHouseClient;
  token: string | undefined;
  logger: Logger;
  /** The ingest group's lag per input topic; undefined when the broker does not answer. */
  lag?: () => Promise<TopicLag[] | undefined>;
  /** Dead letters read so far; undefined while the dead-letter topic is not read yet. */
  deadLetters?: () => DeadLetterSummary | undefined;
}

/** The dashboard and API as a fastify instance (not listening yet). */
export function buildServer({ clickhouse, token, logger, lag = async () => undefined, deadLetters = () => undefined }: WebOptions): FastifyInstance {
  // A 256-character id, percent-encoded as UTF-8, is up to 256 × 12 characters.
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 256 * 12 } });

  // Everything but the health check needs the token when one is set; the query string's token is
  // accepted so a printed URL opens in a browser, as Jupyter's does.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] === '/api/health') return;
    if (tokenAccepted(token, presentedToken(request.headers.authorization, request.query))) return;
    const isApi = request.url.startsWith('/api/');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .type(isApi ? 'application/json' : 'text/html; charset=utf-8')
      .send(isApi ? { error: 'unauthorized', message: 'a valid token is required (Authorization: Bearer … or ?token=…)' } : '<!doctype html><p>A valid token is required: open the URL <code>crm status</code> prints.</p>');
  });

  app.setErrorHandler(async (error, request, reply) => {
    const status4xx = (error as { statusCode?: number }).statusCode;
    if (status4xx !== undefined && status4xx >= 400 && status4xx < 500) return reply.code(status4xx).send({ error: 'bad_request', message: (error as Error).message });
    const classified = classifyClickHouseError(error, 'a dashboard query');
    const unavailable = isRetriable(classified);
    // The code only: a ClickHouse message may quote the query's parameters (customer ids).
    logger.warn({ code: (classified as { code?: string }).code, route: request.routeOptions.url }, 'request failed');
    const status = unavailable ? 503 : 500;
    if (request.url.startsWith('/api/')) return reply.code(status).send({ error: unavailable ? 'unavailable' : 'internal', message: unavailable ? 'ClickHouse is not reachable; try again' : 'the query failed' });
    return reply.code(status).type('text/html; charset=utf-8').send(page('Unavailable', html`<p>${unavailable ? 'ClickHouse is not reachable yet; reload in a moment.' : 'The page could not be built.'}</p>`, token));
  });

  const answer = async (reply: FastifyReply, result: Promise<api.Answer>) => {
    const { status, body } = await result;
    return reply.code(status).send(body);
  };
  const htmlReply = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);

  app.get('/api/health', (_req, reply) => answer(reply, api.health(clickhouse)));
  app.get('/api/openapi.json', async () => OPENAPI);
  app.get<{ Params: { id: string } }>('/api/customers/:id', (req, reply) => answer(reply, api.customer(clickhouse, req.params.id)));
  app.get<{ Params: { type: string; name: string }; Querystring: { cursor?: string; limit?: string } }>('/api/segments/:type/:name/customers', (req, reply) =>
    answer(reply, api.segment(clickhouse, req.params.type, req.params.name, req.query)),
  );
  app.get<{ Querystring: Record<string, string> }>('/api/at-risk', (req, reply) => answer(reply, api.atRiskList(clickhouse, req.query)));

  app.get('/', async (_req, reply) => htmlReply(reply, await overview(clickhouse, token)));
  app.get<{ Querystring: Record<string, string> }>('/at-risk', async (req, reply) => htmlReply(reply, await atRiskPage(clickhouse, token, req.query)));
  app.get('/pipeline', async (_req, reply) => htmlReply(reply, await pipelinePage(clickhouse, token, await lag(), deadLetters())));
  app.get<{ Querystring: { id?: string } }>('/customer', async (req, reply) => {
    const id = (req.query.id ?? '').trim();
    const rendered = id === '' ? undefined : await customerPage(clickhouse, token, id);
    return rendered === undefined ? htmlReply(reply, page('Customer not found', html`<p>No customer ${JSON.stringify(id)}.</p>`, token), 404) : htmlReply(reply, rendered);
  });
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = Object.hasOwn(ASSETS, req.params.name) ? ASSETS[req.params.name] : undefined;
    if (asset === undefined) return reply.code(404).send({ error: 'not_found', message: 'no such asset' });
    return reply.type(asset.type).header('cache-control', 'max-age=3600').send(asset.body);
  });
  return app;
}
