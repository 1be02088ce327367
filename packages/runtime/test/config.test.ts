import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, CrmError, loadConfig, retry, setting } from '../src/index.js';

const schema = z.object({ PORT: setting.port(8080), NAME: z.string().min(1), FLAG: setting.boolean(false) });

describe('loadConfig', () => {
  it('applies documented defaults and freezes the result', () => {
    const config = loadConfig(schema, { NAME: 'x', PORT: '' });
    expect(config).toEqual({ PORT: 8080, NAME: 'x', FLAG: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad setting at once, each by name and with what was given', () => {
    try {
      loadConfig(schema, { PORT: 'eighty', FLAG: 'maybe' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/PORT: .*"eighty"/);
      expect(problems.join('\n')).toMatch(/NAME:/);
      expect(problems.join('\n')).toMatch(/FLAG: .*"maybe"/);
    }
  });
});

describe('loadConfig and secrets', () => {
  it('names a bad secret setting without echoing its value', () => {
    const secrets = z.object({ CLICKHOUSE_PASSWORD: z.string().min(20), CRM_WEB_TOKEN: z.string().min(16), KAFKA_SSL_KEY_PASSPHRASE: z.string().min(20) });
    const error = (() => {
      try {
        loadConfig(secrets, { CLICKHOUSE_PASSWORD: 'short-pw', CRM_WEB_TOKEN: 'tok-abc', KAFKA_SSL_KEY_PASSPHRASE: 'phrase-x' });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error?.problems).toHaveLength(3);
    expect(error?.message).toMatch(/CLICKHOUSE_PASSWORD: .*value not shown/);
    expect(error?.message).not.toMatch(/short-pw|tok-abc|phrase-x/);
  });
});

describe('retry', () => {
  const fast = { retries: 3, initialDelayMs: 1, maxDelayMs: 2 };

  it('retries retriable errors until success', async () => {
    let attempts = 0;
    const value = await retry(async () => {
      if (++attempts < 3) throw new CrmError('CLICKHOUSE_UNAVAILABLE', 'down', { retriable: true });
      return 'ok';
    }, fast);
    expect({ value, attempts }).toEqual({ value: 'ok', attempts: 3 });
  });

  it('never retries a programmer error', async () => {
    let attempts = 0;
    await expect(
      retry(async () => {
        attempts++;
        throw new TypeError('bug');
      }, fast),
    ).rejects.toThrow('bug');
    expect(attempts).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    let attempts = 0;
    await expect(
      retry(async () => {
        attempts++;
        throw new CrmError('TIMEOUT', 'slow', { retriable: true });
      }, fast),
    ).rejects.toThrow('slow');
    expect(attempts).toBe(4);
  });
});
