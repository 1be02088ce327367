import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@crm/runtime';
import { loadWebConfig, startWeb, type RunningWeb } from '../src/index.js';

// A missing dependency is waited out, not fatal: with ClickHouse away the service still starts,
// says 503 with a JSON error, and needs no restart to work once ClickHouse is back.
let web: RunningWeb;
beforeAll(async () => {
  web = await startWeb(loadWebConfig({ CRM_WEB_PORT: '0', CLICKHOUSE_URL: 'http://127.0.0.1:1' }), createLogger('web', 'silent'));
});
afterAll(async () => {
  await web?.stop();
});

it('answers 503 while ClickHouse is unreachable, as JSON on the API and as a page on the dashboard', async () => {
  const health = await fetch(new URL('/api/health', web.url));
  expect([health.status, await health.json()]).toEqual([503, { status: 'unavailable', clickhouse: 'unreachable' }]);
  const profile = await fetch(new URL('/api/customers/c1', web.url));
  expect([profile.status, await profile.json()]).toEqual([503, { error: 'unavailable', message: 'ClickHouse is not reachable; try again' }]);
  const overview = await fetch(new URL('/', web.url));
  expect(overview.status).toBe(503);
  expect(await overview.text()).toContain('ClickHouse is not reachable yet');
});
