import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@crm/runtime';
import { kafkaConnectionOptions, loadKafkaSettings } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crm-kafka-security-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');

function problems(env: Record<string, string>): string[] {
  try {
    kafkaConnectionOptions(loadKafkaSettings(env));
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
}

describe('Kafka transport settings', () => {
  it('default to plaintext without SASL', () => {
    expect(kafkaConnectionOptions(loadKafkaSettings({ KAFKA_BROKERS: '127.0.0.1:1,127.0.0.1:2' }))).toEqual({ brokers: ['127.0.0.1:1', '127.0.0.1:2'] });
  });

  it('map TLS and SASL onto kafkajs, the mechanism in any case; a CA alone turns TLS on', () => {
    const options = kafkaConnectionOptions(loadKafkaSettings({ KAFKA_BROKERS: 'b:9093', KAFKA_SSL_CA_FILE: ca, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }));
    expect(options.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(options.ssl).toMatchObject({ rejectUnauthorized: true, ca: [expect.any(Buffer)] });
    expect(kafkaConnectionOptions(loadKafkaSettings({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' })).ssl).toEqual({ rejectUnauthorized: false });
  });

  it('name the setting when a mechanism has no username, a file cannot be read, or a certificate has no key', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_PASSWORD: 'p' })).toEqual(['KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is PLAIN']);
    expect(problems({ KAFKA_SASL_USERNAME: 'u' })[0]).toMatch(/^KAFKA_SASL_USERNAME: set, but KAFKA_SASL_MECHANISM is not/);
    expect(problems({ KAFKA_SSL_CERT_FILE: ca })).toEqual(['KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE']);
    expect(() => loadKafkaSettings({ KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') })).toThrow(/KAFKA_SSL_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/);
    expect(() => loadKafkaSettings({ KAFKA_SASL_MECHANISM: 'GSSAPI' })).toThrow(/KAFKA_SASL_MECHANISM: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/);
  });

  it('never echo a secret in a configuration error', () => {
    const error = (() => {
      try {
        loadKafkaSettings({ KAFKA_SASL_PASSWORD: 'hunter2-secret', KAFKA_SSL: 'maybe', KAFKA_SSL_KEY_PASSPHRASE: 'pass-secret' });
        kafkaConnectionOptions(loadKafkaSettings({ KAFKA_SASL_PASSWORD: 'hunter2-secret', KAFKA_SSL_KEY_PASSPHRASE: 'pass-secret' }));
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/KAFKA_SSL: .*"maybe"/);
    expect(error?.message).not.toMatch(/hunter2|pass-secret/);
  });
});
