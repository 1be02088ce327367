import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writePidFile } from '@crm/runtime';
import { spawnService, type ServiceProcess } from '../../../test/support/processes.js';
import { status } from '../src/stack/stack.js';
import { loadStackConfig } from '../src/stack/settings.js';

// A dashboard port another program holds is a dependency that is not there yet: the real web
// service waits and retries (never exits), says why in its log, `crm status` shows it, and it
// listens as soon as the port is free.
const home = mkdtempSync(join(tmpdir(), 'crm-web-port-'));
let web: ServiceProcess | undefined;
let blocker: Server | undefined;
afterAll(async () => {
  await web?.kill('SIGTERM');
  blocker?.close();
  rmSync(home, { recursive: true, force: true });
});

it('waits for a taken CRM_WEB_PORT with a clear log line, crm status says so, and it listens once the port is free', async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  web = spawnService('services/web/src/main.ts', { CRM_WEB_PORT: String(port), CLICKHOUSE_URL: 'http://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1' });
  const busy = (line: Record<string, unknown>) => (line.err as { code?: string } | undefined)?.code === 'PORT_IN_USE';
  const first = await web.waitForLog(busy, 60_000);
  expect((first.err as { message: string }).message).toBe(`port ${port} on 127.0.0.1 is in use by another program; waiting for it to be free (or set CRM_WEB_PORT)`);
  expect(first.msg).toBe('dashboard port (CRM_WEB_PORT): not available yet; retrying');
  // Still there at the next attempt: it retried rather than exited.
  await web.waitForLog((line) => busy(line) && Number(line.attempt) >= 2, 30_000);
  expect(web.child.exitCode).toBeNull();

  // What `crm status` prints for it, from the log `crm up` writes and the pid it records.
  process.env.CRM_HOME = home;
  mkdirSync(join(home, 'logs'), { recursive: true });
  mkdirSync(join(home, 'run'), { recursive: true });
  writePidFile(join(home, 'run', 'web.pid'), web.child.pid!);
  const webLine = () => {
    writeFileSync(join(home, 'logs', 'web.log'), `${web!.lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return status(loadStackConfig({ CRM_HOME: home })).find((l) => l.startsWith('web '));
  };
  expect(webLine()).toContain(`waiting: port ${port} on 127.0.0.1 is in use by another program`);

  await new Promise<void>((resolve) => blocker!.close(() => resolve()));
  await web.waitForLog((line) => line.msg === 'listening' && line.webPort === port, 30_000);
  const health = await fetch(`http://127.0.0.1:${port}/api/health`);
  expect([health.status, await health.json()]).toEqual([503, { status: 'unavailable', clickhouse: 'unreachable' }]);
  expect(webLine()).toContain(`http://127.0.0.1:${port}/`);
  expect(webLine()).not.toContain('waiting');
});
