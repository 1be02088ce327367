import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGeneratedPassword, passwordFile } from '../src/stack/password.js';
import { loadStackConfig } from '../src/stack/settings.js';

const home = mkdtempSync(join(tmpdir(), 'crm-password-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the embedded host password', () => {
  it('is generated once into CRM_HOME, owner-only, and used by the configuration unless CLICKHOUSE_PASSWORD is set', () => {
    const env = { CRM_HOME: home };
    expect(loadStackConfig(env).CLICKHOUSE_PASSWORD).toBe('');
    const file = ensureGeneratedPassword(env);
    expect(file).toBe(passwordFile(env));
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    const password = readFileSync(file!, 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // a second `crm up` keeps it
    ensureGeneratedPassword(env);
    expect(readFileSync(file!, 'utf8').trim()).toBe(password);
    expect(loadStackConfig(env).CLICKHOUSE_PASSWORD).toBe(password);
    // an explicit one wins, also an empty one; another server never gets the generated one
    expect(loadStackConfig({ ...env, CLICKHOUSE_PASSWORD: 'mine' }).CLICKHOUSE_PASSWORD).toBe('mine');
    expect(loadStackConfig({ ...env, CLICKHOUSE_PASSWORD: '' }).CLICKHOUSE_PASSWORD).toBe('');
    expect(ensureGeneratedPassword({ ...env, CLICKHOUSE_PASSWORD: '' })).toBeUndefined();
    expect(loadStackConfig({ ...env, CLICKHOUSE_URL: 'http://ch.example:8123' }).CLICKHOUSE_PASSWORD).toBe('');
    // a loosened mode is tightened again when read
    chmodSync(file!, 0o644);
    loadStackConfig(env);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
  });
});
