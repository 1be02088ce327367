/**
 * Screenshots of a running dashboard's pages, for review (e.g. after `crm demo`):
 *
 *   pnpm tsx services/web/test/support/screenshots.ts 'http://127.0.0.1:8080/?token=…' .local/screenshots
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const [dashboard, out = '.local/screenshots'] = process.argv.slice(2);
if (dashboard === undefined || CHROMIUM === undefined) throw new Error('usage: screenshots.ts <dashboard URL> [folder]; needs Chromium (apt-get install chromium)');
const base = new URL(dashboard);
mkdirSync(out, { recursive: true });
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  const tab = await browser.newPage();
  await tab.setViewport({ width: 1400, height: 1000 });
  const shoot = async (path: string, name: string) => {
    const url = new URL(path, base);
    for (const [k, v] of base.searchParams) url.searchParams.set(k, v);
    const response = await tab.goto(url.href, { waitUntil: 'load' });
    await tab.waitForSelector('html[data-charts-ready="true"]', { timeout: 15_000 });
    await tab.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    process.stdout.write(`${join(out, `${name}.png`)} (${response?.status()})\n`);
  };
  await shoot('/', 'demo-overview');
  await shoot('/at-risk', 'demo-at-risk');
  const first = await tab.$eval('section table tbody tr a', (a) => (a as unknown as { href: string }).href).catch(() => undefined);
  if (first !== undefined) await shoot(new URL(first).pathname + new URL(first).search, 'demo-customer');
  await shoot('/pipeline', 'demo-pipeline');
} finally {
  await browser.close();
}
