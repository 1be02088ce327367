import { describe, expect, it } from 'vitest';
import { ConfigError } from '@crm/runtime';
import { loadWebConfig, presentedToken, tokenAccepted } from '../src/index.js';

describe('web configuration', () => {
  it('listens on loopback port 8080 without a token by default', () => {
    const config = loadWebConfig({});
    expect([config.CRM_WEB_HOST, config.CRM_WEB_PORT, config.CRM_WEB_TOKEN]).toEqual(['127.0.0.1', 8080, undefined]);
  });

  it('refuses to listen beyond loopback without CRM_WEB_TOKEN, naming the setting', () => {
    expect(() => loadWebConfig({ CRM_WEB_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadWebConfig({ CRM_WEB_HOST: '0.0.0.0' })).toThrow(/CRM_WEB_TOKEN/);
    expect(loadWebConfig({ CRM_WEB_HOST: '0.0.0.0', CRM_WEB_TOKEN: 'a'.repeat(32) }).CRM_WEB_HOST).toBe('0.0.0.0');
    expect(() => loadWebConfig({ CRM_WEB_TOKEN: 'short' })).toThrow(/CRM_WEB_TOKEN/);
    expect(() => loadWebConfig({ CRM_WEB_PORT: 'eighty' })).toThrow(/CRM_WEB_PORT/);
  });
});

describe('the access token', () => {
  it('is read from a bearer header first, then ?token=', () => {
    expect(presentedToken('Bearer abc', { token: 'xyz' })).toBe('abc');
    expect(presentedToken(undefined, { token: 'xyz' })).toBe('xyz');
    expect(presentedToken('Basic abc', {})).toBeUndefined();
  });

  it('is checked only when one is configured', () => {
    expect(tokenAccepted(undefined, undefined)).toBe(true);
    expect(tokenAccepted('secret-token', 'secret-token')).toBe(true);
    expect(tokenAccepted('secret-token', 'secret-tokeN')).toBe(false);
    expect(tokenAccepted('secret-token', undefined)).toBe(false);
  });
});
