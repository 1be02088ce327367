import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import type { TopicNames } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { loadIngestConfig, startIngest, type IngestService } from '@crm/ingest';
import { loadWebConfig, startWeb, type RunningWeb } from '../src/index.js';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.js';
import { useTestInfrastructure } from '../../../test/support/harness.js';
import { createTestTopics, produce, readTopic } from '../../../test/support/kafka.js';
import { orderEvent } from '../../../test/support/events.js';

// The Pipeline page's dead letters as an operator sees them in a browser: bad orders go through
// the real broker into the real ingest, which dead-letters them; the dashboard counts them by
// source topic and reason and lists the newest without the customer id or payload.
if (CHROMIUM === undefined) console.warn('dead-letters.browser.kafka.test.ts skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)');
const SCREENSHOTS = join(import.meta.dirname, '../../../.local/screenshots');
const infra = useTestInfrastructure();
let topics: TopicNames;
let ingest: IngestService;
let web: RunningWeb;
let browser: Browser;

describe.skipIf(CHROMIUM === undefined)('dead letters on the Pipeline page', () => {
  beforeAll(async () => {
    const env = infra.env();
    topics = await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    ingest = await startIngest(loadIngestConfig(env), createLogger('ingest', 'warn'));
    web = await startWeb(loadWebConfig(env), createLogger('web', 'warn'));
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await ingest?.stop();
  });

  it('counts the letters per topic and reason and shows the newest without personal data', async () => {
    const secret = 'jane.doe@example.com';
    const good = orderEvent('dl-good', Date.parse('2026-03-01T10:00:00Z'), 12.5);
    const missing = { ...orderEvent(secret, Date.parse('2026-03-01T10:00:00Z'), 5) } as Record<string, unknown>;
    delete missing.order_id;
    await produce(infra.kafka, topics.orders, [
      { key: secret, value: '{not json' },
      { key: secret, value: '{"also": not json' },
      { key: secret, value: JSON.stringify(missing) },
      { key: 'dl-good', value: JSON.stringify(good) },
    ]);
    await readTopic(infra.kafka, topics.deadLetter, (all) => all.length >= 3, 60_000);

    const tab = await browser.newPage();
    await tab.setViewport({ width: 1400, height: 1000 });
    const text = () => tab.$eval('body', (body) => (body as unknown as { innerText: string }).innerText);
    let seen = '';
    // The reader counts in the background: reload until it has all three.
    for (let i = 0; i < 30 && !seen.includes('3 letters'); i++) {
      await tab.goto(new URL('/pipeline', web.url).href, { waitUntil: 'load' });
      seen = await text();
      if (!seen.includes('3 letters')) await new Promise((r) => setTimeout(r, 1000));
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    await tab.screenshot({ path: join(SCREENSHOTS, 'pipeline-dead-letters.png'), fullPage: true });
    expect(seen).toContain('3 letters on the dead-letter topic');
    const byReason = await tab.$$eval('#dead-letters table:first-of-type tbody tr', (trs) => trs.map((tr) => (tr as unknown as { innerText: string }).innerText.split('\t').slice(0, 3)));
    expect(byReason).toEqual([
      [topics.orders, 'invalid_encoding', '2'],
      [topics.orders, 'missing_field', '1'],
    ]);
    const recent = await tab.$$eval('#dead-letters table:last-of-type tbody tr', (trs) => trs.map((tr) => (tr as unknown as { innerText: string }).innerText.split('\t')));
    expect(recent).toHaveLength(3);
    expect(recent.map((r) => r[2]).sort()).toEqual(['invalid_encoding', 'invalid_encoding', 'missing_field']);
    expect(recent.find((r) => r[2] === 'missing_field')?.[3]).toBe('order_id');
    expect(recent.every((r) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(r[0]!) && /^\d+ B$/.test(r[4]!))).toBe(true);
    expect(seen).not.toContain(secret);
    expect(seen).not.toContain('not json');
  });
});
