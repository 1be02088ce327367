import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { loadWebConfig, startWeb, type RunningWeb } from '../src/index.js';
import { SEEDED, seededDatabase } from './support/seed.js';

// The API over HTTP, against the real engine with a seeded population (support/seed.ts).
const TOKEN = 'test-token-0123456789abcdef';
let host: TestClickHouse;
let clickhouse: ClickHouseClient;
let web: RunningWeb;

beforeAll(async () => {
  host = await startTestClickHouse();
  const seeded = await seededDatabase(host, 'web_api');
  clickhouse = seeded.clickhouse;
  const config = loadWebConfig({ ...seeded.config, CRM_WEB_PORT: '0', CRM_WEB_TOKEN: TOKEN, LOG_LEVEL: 'silent' });
  web = await startWeb(config, createLogger('web', 'silent'));
});
afterAll(async () => {
  await web?.stop();
  await clickhouse?.close();
  await host?.stop();
});

const get = (path: string, auth: 'bearer' | 'query' | 'none' = 'bearer') =>
  fetch(new URL(auth === 'query' ? `${path}${path.includes('?') ? '&' : '?'}token=${TOKEN}` : path, web.url), {
    headers: auth === 'bearer' ? { authorization: `Bearer ${TOKEN}` } : {},
  });
const json = async (path: string) => {
  const response = await get(path);
  return { status: response.status, body: (await response.json()) as any };
};

describe('the token', () => {
  it('is required on the API and the pages, as a bearer header or ?token=, but not for the health check', async () => {
    expect((await get('/api/customers/c03', 'none')).status).toBe(401);
    expect(await (await get('/api/customers/c03', 'none')).json()).toMatchObject({ error: 'unauthorized' });
    expect((await fetch(new URL('/api/at-risk', web.url), { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await get('/', 'none')).status).toBe(401);
    expect((await get('/api/customers/c03', 'query')).status).toBe(200);
    expect((await get('/', 'query')).status).toBe(200);
    expect((await get('/api/health', 'none')).status).toBe(200);
  });
});

describe('GET /api/customers/{id}', () => {
  it('answers the profile, scores, current segments and risk state', async () => {
    const { status, body } = await json('/api/customers/c03');
    expect(status).toBe(200);
    expect(body.customer_id).toBe('c03');
    expect(body.segments).toEqual({ rfm: 'champions', lifecycle: 'active', tier: 'gold' });
    expect(body.risk).toMatchObject({ at_risk: true, drivers: ['open_complaint', 'recency'], clv_12m: 1350, alerted: true });
    expect(body.profile).toMatchObject({ revenue_total: 2700, purchases_total: 4, open_complaints: 1 });
    expect(body.scores).toMatchObject({ r_score: 5, clv_12m: 1350, churn_probability: 0.13 });
  });

  it('says not at risk for a customer whose last risk decision left at_risk, and for one never at risk', async () => {
    expect((await json('/api/customers/c02')).body.risk).toEqual({ at_risk: false });
    expect((await json('/api/customers/c10')).body.risk).toEqual({ at_risk: false });
  });

  it('answers 404 with a JSON error for an unknown id, and treats an id with SQL in it as an id', async () => {
    const unknown = await json('/api/customers/nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found' });
    const injected = await json(`/api/customers/${encodeURIComponent("c03' OR 1=1 --")}`);
    expect(injected.status).toBe(404);
    expect((await json(`/api/customers/${encodeURIComponent('kunde-ü'.repeat(36))}`)).status).toBe(404);
    expect((await json(`/api/customers/${encodeURIComponent('x'.repeat(257))}`)).status).toBe(400);
  });
});

describe('GET /api/segments/{type}/{name}/customers', () => {
  it('pages through a segment by customer_id cursor until next_cursor is null', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await json(`/api/segments/rfm/loyal_customers/customers?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(...body.customers.map((c: { customer_id: string }) => c.customer_id));
      if (body.next_cursor === null) break;
      cursor = body.next_cursor;
    }
    // c06…c14 are loyal_customers in the seed: nine, in three pages of at most four.
    expect(seen).toEqual(['c06', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12', 'c13', 'c14']);
  });

  it('reads tiers and lifecycle stages too, and refuses an unknown type or a bad limit', async () => {
    expect((await json('/api/segments/tier/platinum/customers')).body.customers.map((c: { customer_id: string }) => c.customer_id)).toEqual(['c00', 'c01']);
    expect((await json('/api/segments/lifecycle/churned/customers')).body.customers.map((c: { customer_id: string }) => c.customer_id)).toEqual([...SEEDED.churned]);
    expect((await json('/api/segments/colour/blue/customers')).status).toBe(404);
    expect((await json('/api/segments/rfm/champions/customers?limit=0')).status).toBe(400);
  });
});

describe('GET /api/at-risk', () => {
  it('lists those at risk now with drivers, CLV and last purchase, sorted as asked', async () => {
    const byClv = await json('/api/at-risk');
    expect(byClv.status).toBe(200);
    expect(byClv.body.customers.map((c: { customer_id: string }) => c.customer_id)).toEqual(['c01', 'c03']);
    expect(byClv.body.customers[1]).toMatchObject({ drivers: ['open_complaint', 'recency'], clv_12m: 1350, value_tier: 'gold' });
    expect(byClv.body.customers[1].last_purchase_at).toMatch(/^\d{4}-\d\d-\d\d/);
    const ascending = await json('/api/at-risk?sort=clv&order=asc');
    expect(ascending.body.customers.map((c: { customer_id: string }) => c.customer_id)).toEqual(['c03', 'c01']);
    expect((await json('/api/at-risk?sort=customer_id;DROP')).status).toBe(400);
  });
});

describe('GET /api/openapi.json and /api/health', () => {
  it('describes every API path, and reports ClickHouse reachable', async () => {
    const { body } = await json('/api/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual(['/api/at-risk', '/api/customers/{id}', '/api/health', '/api/segments/{type}/{name}/customers']);
    expect(await json('/api/health')).toEqual({ status: 200, body: { status: 'ok', clickhouse: 'reachable' } });
  });
});
