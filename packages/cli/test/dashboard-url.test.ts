import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { dashboardUrl } from '../src/stack/stack.js';
import { loadStackConfig } from '../src/stack/settings.js';

const home = mkdtempSync(join(tmpdir(), 'crm-dashboard-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('is the port the web service logged, with ?token= when a token is set, and nothing before it listens', () => {
  const env = { CRM_HOME: home };
  expect(dashboardUrl(loadStackConfig(env), env)).toBeUndefined();
  mkdirSync(join(home, 'logs'), { recursive: true });
  writeFileSync(join(home, 'logs', 'web.log'), `${JSON.stringify({ msg: 'listening', url: 'http://127.0.0.1:8080/', webPort: 8080 })}\n${JSON.stringify({ msg: 'listening', webPort: 41234 })}\n`);
  expect(dashboardUrl(loadStackConfig(env), env)).toBe('http://127.0.0.1:41234/');
  const tokened = { ...env, CRM_WEB_HOST: '0.0.0.0', CRM_WEB_TOKEN: 'a token/with+odd chars' };
  expect(dashboardUrl(loadStackConfig(tokened), tokened)).toBe('http://127.0.0.1:41234/?token=a%20token%2Fwith%2Bodd%20chars');
});
