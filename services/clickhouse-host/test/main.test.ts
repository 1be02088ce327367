import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHostConfig } from '../src/config.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');

interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  output: () => string;
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Runs the entry point the way `crm up` does (node --import tsx), following its JSON log on stdout. */
function runMain(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: dirname(MAIN),
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let text = '';
  let pending = '';
  const wakers = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    pending += chunk.toString();
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // the engine may print plain text; only pino's JSON lines matter here
      }
    }
    for (const wake of wakers) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor: Child['waitFor'] = (predicate, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`log line not seen in ${timeoutMs} ms:\n${text.slice(-3000)}`));
      }, timeoutMs);
      const onExit = () => {
        done();
        reject(new Error(`exited before the log line:\n${text.slice(-3000)}`));
      };
      const done = () => {
        clearTimeout(timer);
        wakers.delete(check);
        child.off('exit', onExit);
      };
      wakers.add(check);
      child.on('exit', onExit);
      check();
    });
  return { process: child, lines, output: () => text, waitFor, exited };
}

const dirs: string[] = [];
const children: Child[] = [];
afterAll(() => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('main.ts', () => {
  it('serves on a port it reports, refuses a second owner of the directory, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ch-host-main-'));
    dirs.push(dir);
    // a zone other than UTC for the process: the host still answers in UTC, as it says in X-ClickHouse-Timezone
    const first = runMain({ CRM_CLICKHOUSE_PORT: '0', CRM_CLICKHOUSE_DATA_DIR: dir, TZ: 'Asia/Tokyo' });
    children.push(first);
    const listening = await first.waitFor((line) => line.msg === 'listening');
    expect(listening.port).toEqual(expect.any(Number));
    expect(listening.port).not.toBe(0);
    expect(listening.url).toBe(`http://127.0.0.1:${String(listening.port)}`);

    const client = createClient({ url: String(listening.url) });
    try {
      await client.command({ query: 'CREATE TABLE kept (n UInt32) ENGINE = MergeTree ORDER BY n' });
      await client.insert({ table: 'kept', values: [{ n: 40 }, { n: 2 }], format: 'JSONEachRow' });
      const rs = await client.query({ query: 'SELECT sum(n) AS s FROM kept', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ s: 42 }]);
      const tz = await client.query({ query: 'SELECT timezone() AS tz, toString(toDateTime(0)) AS epoch', format: 'JSONEachRow' });
      expect(await tz.json()).toEqual([{ tz: 'UTC', epoch: '1970-01-01 00:00:00' }]);
      expect(tz.response_headers['x-clickhouse-timezone']).toBe('UTC');
    } finally {
      await client.close();
    }

    const second = runMain({ CRM_CLICKHOUSE_PORT: '0', CRM_CLICKHOUSE_DATA_DIR: dir });
    children.push(second);
    expect(await second.exited).toBe(1);
    const fatal = second.lines.find((line) => line.level === 60);
    expect(String(fatal?.msg)).toMatch(new RegExp(`${dir}.*is owned by another process \\(pid ${String(first.process.pid)}\\)`));

    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.lines.some((line) => line.msg === 'stopped')).toBe(true);
  });

  it('refuses to listen beyond loopback without a password, naming the settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ch-host-main-'));
    dirs.push(dir);
    const open = runMain({ CRM_CLICKHOUSE_PORT: '0', CRM_CLICKHOUSE_DATA_DIR: dir, CRM_CLICKHOUSE_HOST: '0.0.0.0', CLICKHOUSE_PASSWORD: '' });
    children.push(open);
    expect(await open.exited).toBe(1);
    expect(open.output()).toMatch(/CRM_CLICKHOUSE_HOST=0\.0\.0\.0 is not a loopback address: set CLICKHOUSE_PASSWORD/);
  });

  it('reads its settings from the environment', () => {
    expect(loadHostConfig({ CRM_HOME: '/srv/crm' })).toMatchObject({
      CRM_CLICKHOUSE_HOST: '127.0.0.1',
      CRM_CLICKHOUSE_PORT: 8123,
      CRM_CLICKHOUSE_DATA_DIR: '/srv/crm/clickhouse',
      CRM_CLICKHOUSE_USER_FILES_DIR: '/srv/crm/clickhouse/user_files',
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_PASSWORD: '',
      CRM_CLICKHOUSE_ALLOWED_ORIGINS: [],
      CRM_CLICKHOUSE_REMOTE_SOURCES: [],
      CRM_CLICKHOUSE_MAX_CONCURRENT_QUERIES: 100,
      CRM_CLICKHOUSE_MAX_EXECUTION_TIME: 600,
      LOG_LEVEL: 'info',
    });
    expect(loadHostConfig({ CRM_CLICKHOUSE_ALLOWED_ORIGINS: 'http://localhost:3000, https://bi.example' }).CRM_CLICKHOUSE_ALLOWED_ORIGINS).toEqual([
      'http://localhost:3000',
      'https://bi.example',
    ]);
    expect(loadHostConfig({ CRM_CLICKHOUSE_PORT: '0', CRM_CLICKHOUSE_DATA_DIR: '/data/ch', LOG_LEVEL: 'debug' })).toMatchObject({
      CRM_CLICKHOUSE_PORT: 0,
      CRM_CLICKHOUSE_DATA_DIR: '/data/ch',
      LOG_LEVEL: 'debug',
    });
    expect(() => loadHostConfig({ CRM_CLICKHOUSE_PORT: '70000' })).toThrow(/CRM_CLICKHOUSE_PORT/);
  });
});
