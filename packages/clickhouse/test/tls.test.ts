import { createPrivateKey } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '@crm/runtime';
import { clickhouseSettings, createClickHouse } from '../src/index.js';
import { runCli } from '../../../test/support/cli.js';
import { startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';
import { makeTestPki } from '../../../test/support/pki.js';

let dir: string;
let host: TestClickHouse;
let proxy: Server;
let httpsUrl: string;
let files: { ca: string; cert: string; key: string; strangerCert: string; strangerKey: string };

/**
 * The embedded host behind a TLS-terminating proxy that requires a client certificate from
 * the test CA, as a ClickHouse server with <verificationMode>strict</verificationMode> would.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-test-ch-tls-'));
  const pki = makeTestPki(dir);
  const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  files = {
    ca: write('ca.pem', pki.caPem),
    // The client's key unencrypted: @clickhouse/client takes no passphrase.
    cert: write('client.crt', pki.clientCertPem),
    key: write('client.key', createPrivateKey({ key: pki.clientKeyPem, passphrase: pki.clientKeyPassphrase }).export({ type: 'pkcs8', format: 'pem' }).toString()),
    strangerCert: write('stranger.crt', pki.strangerCertPem),
    strangerKey: write('stranger.key', pki.strangerKeyPem),
  };
  host = await startTestClickHouse();
  const target = new URL(host.url);
  proxy = createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  httpsUrl = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 180_000);

afterAll(async () => {
  proxy?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const schema = z.object(clickhouseSettings);
const env = (extra: Record<string, string>) => ({ CLICKHOUSE_URL: httpsUrl, CLICKHOUSE_USER: host.user, CLICKHOUSE_PASSWORD: host.password, CLICKHOUSE_DATABASE: 'default', ...extra });

async function selectOne(settings: Record<string, string>): Promise<string> {
  const clickhouse = createClickHouse(loadConfig(schema, env(settings)));
  try {
    const result = await clickhouse.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
    return JSON.stringify(await result.json());
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await clickhouse.close();
  }
}

describe('ClickHouse over TLS', () => {
  it('reaches the server with the CA and a client certificate; the CLI does too', { timeout: 60_000 }, async () => {
    const settings = { CLICKHOUSE_CA_FILE: files.ca, CLICKHOUSE_CERT_FILE: files.cert, CLICKHOUSE_KEY_FILE: files.key };
    expect(await selectOne(settings)).toBe('[{"one":1}]');
    const cli = await runCli(['sql', 'SELECT 41 + 1 AS answer', '--format', 'JSONEachRow'], { ...env(settings), CRM_HOME: join(dir, 'home') });
    expect(cli.stdout.trim(), cli.stderr).toBe('{"answer":42}');
  });

  it('fails without the CA, without a client certificate, and with one the server does not trust', async () => {
    expect(await selectOne({ CLICKHOUSE_CA_FILE: files.ca })).toMatch(/^failed: .*(certificate|socket hang up|ECONNRESET)/i);
    expect(await selectOne({ CLICKHOUSE_CA_FILE: files.ca, CLICKHOUSE_CERT_FILE: files.strangerCert, CLICKHOUSE_KEY_FILE: files.strangerKey })).toMatch(/^failed: /);
    // Node's built-in CAs do not know the test CA.
    expect(await selectOne({})).toMatch(/^failed: .*(self.signed|unable to verify|certificate)/i);
  });

  it('stops at start-up naming the setting: an unreadable file, a certificate without its key or CA, TLS files with an http:// URL', () => {
    const problems = (settings: Record<string, string>) => {
      try {
        createClickHouse(loadConfig(schema, env(settings)));
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return [...(error as ConfigError).problems];
      }
    };
    expect(problems({ CLICKHOUSE_CA_FILE: join(dir, 'missing.pem') })).toEqual([expect.stringMatching(/^CLICKHOUSE_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/)]);
    expect(problems({ CLICKHOUSE_CA_FILE: files.ca, CLICKHOUSE_CERT_FILE: files.cert })).toEqual(['CLICKHOUSE_KEY_FILE: required with CLICKHOUSE_CERT_FILE']);
    expect(problems({ CLICKHOUSE_CERT_FILE: files.cert, CLICKHOUSE_KEY_FILE: files.key })).toEqual(['CLICKHOUSE_CA_FILE: required with a client certificate (CLICKHOUSE_CERT_FILE)']);
    expect(problems({ CLICKHOUSE_URL: host.url, CLICKHOUSE_CA_FILE: files.ca })[0]).toMatch(/^CLICKHOUSE_URL: must be https:\/\//);
  });
});
