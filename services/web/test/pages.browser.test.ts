import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { ClickHouseClient } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { loadWebConfig, startWeb, type RunningWeb } from '../src/index.js';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.js';
import { seededDatabase } from './support/seed.js';

// The pages as a person sees them: headless Chromium (Debian's package; puppeteer-core downloads
// no browser) over a seeded population, with a screenshot of each page for review.
if (CHROMIUM === undefined) console.warn('pages.browser.test.ts skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)');
const SCREENSHOTS = join(import.meta.dirname, '../../../.local/screenshots');
const TOKEN = 'browser-test-token-0123456789';

let host: TestClickHouse;
let clickhouse: ClickHouseClient;
let web: RunningWeb;
let browser: Browser;
let tab: Page;

describe.skipIf(CHROMIUM === undefined)('the dashboard in a browser', () => {
  beforeAll(async () => {
    const { default: puppeteer } = await import('puppeteer-core');
    host = await startTestClickHouse();
    const seeded = await seededDatabase(host, 'web_pages');
    clickhouse = seeded.clickhouse;
    web = await startWeb(loadWebConfig({ ...seeded.config, CRM_WEB_PORT: '0', CRM_WEB_TOKEN: TOKEN, KAFKA_BROKERS: '127.0.0.1:1' }), createLogger('web', 'silent'));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    tab = await browser.newPage();
    await tab.setViewport({ width: 1400, height: 1000 });
    // Nothing may be loaded from outside the machine.
    await tab.setRequestInterception(true);
    tab.on('request', (request) => (new URL(request.url()).host === new URL(web.url).host ? request.continue() : request.abort()));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await clickhouse?.close();
    await host?.stop();
  });

  const open = async (path: string, shot: string) => {
    const external: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (new URL(request.url()).host !== new URL(web.url).host) external.push(request.url());
    };
    tab.on('request', onRequest);
    const response = await tab.goto(new URL(`${path}${path.includes('?') ? '&' : '?'}token=${TOKEN}`, web.url).href, { waitUntil: 'load' });
    await tab.waitForSelector('html[data-charts-ready="true"]', { timeout: 10_000 });
    tab.off('request', onRequest);
    await tab.screenshot({ path: join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    expect(external).toEqual([]);
    return response;
  };
  const text = () => tab.$eval('body', (body) => (body as unknown as { innerText: string }).innerText);

  it('Overview shows the KPIs, the pyramid’s tiers, the lifecycle mix and RFM segment names, drawn as charts', async () => {
    expect((await open('/', 'overview'))?.status()).toBe(200);
    const seen = await text();
    expect(seen).toContain('30\ncustomers');
    for (const tier of ['platinum', 'gold', 'iron', 'lead']) expect(seen).toContain(tier);
    for (const segment of ['champions', 'loyal_customers', 'hibernating']) expect(seen).toContain(segment);
    // ECharts drew SVG into every chart: the pyramid, lifecycle, RFM grid, equity, churn, cohorts, satisfaction.
    expect(await tab.$$eval('.chart svg', (svgs) => svgs.length)).toBe(7);
    expect(await tab.$eval('#pyramid', (el) => el.textContent)).toContain('platinum: 2');
    // satisfaction_monthly: 80 % satisfied the month before last, 50 % in the last (support/seed.ts).
    expect(seen).toMatch(/CSAT %[\s\S]*\t50\t[\s\S]*\t80\t/);
  });

  it('At risk lists the valuable customers at risk with their drivers, and sorts by a heading', async () => {
    expect((await open('/at-risk', 'at-risk'))?.status()).toBe(200);
    const firstRow = () => tab.$eval('section table tbody tr', (tr) => (tr as unknown as { innerText: string }).innerText);
    expect(await firstRow()).toMatch(/^c01\tplatinum\trecency\s*\t1,450/);
    await Promise.all([tab.waitForNavigation(), tab.click('th a[href*="sort=clv"]')]);
    expect(await firstRow()).toMatch(/^c03\tgold\topen_complaint recency\s*\t1,350/);
    expect(await text()).toContain('Churned, by value');
  });

  it('Customer shows one profile, its segments and risk, score history and orders, reached from the at-risk list', async () => {
    await Promise.all([tab.waitForNavigation(), tab.click('a[href*="/customer?id=c03"]')]);
    await tab.waitForSelector('html[data-charts-ready="true"]');
    await tab.screenshot({ path: join(SCREENSHOTS, 'customer.png'), fullPage: true });
    const seen = await text();
    expect(seen).toContain('Customer c03');
    expect(seen).toContain('at risk: open_complaint, recency');
    expect(seen).toContain('champions');
    const orders = await tab.$$eval('section', (sections) => sections.find((s) => s.querySelector('h2')?.textContent === 'Recent orders')?.querySelectorAll('tbody tr').length);
    expect(orders).toBe(2);
    expect(seen).toMatch(/t-1\t\d{4}-\d\d-\d\d\topen\tcomplaint\thigh/);
    expect(await tab.$$eval('#history svg', (svgs) => svgs.length)).toBe(1);
  });

  it('Pipeline shows freshness and the fits with their standard errors, and says so when Kafka does not answer for the lag', async () => {
    expect((await open('/pipeline', 'pipeline'))?.status()).toBe(200);
    const seen = await text();
    expect(seen).toContain('customer_profiles');
    expect(seen).toMatch(/alpha = 4\.41 ± 0\.31/);
    expect(seen).not.toContain('No full run yet');
    expect(seen).toContain('Kafka did not answer; lag unknown.');
    expect(seen).toContain('The dead-letter topic is not read yet (Kafka not reachable); counts unknown.');
  });
});
