import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { livePidFromFile, processStartTime, Readiness, REPO_ROOT, writePidFile } from '../src/index.js';

describe('Readiness', () => {
  it('is ready only when no part waits and every part that promised progress made some within its deadline', () => {
    let now = 0;
    const r = new Readiness({ clickhouse: 'waiting for ClickHouse' }, () => now);
    expect(r.reasons()).toEqual(['clickhouse: waiting for ClickHouse']);
    r.ready('clickhouse');
    expect(r.isReady()).toBe(true);
    r.expectProgress('loop', 1000, 'a poll');
    expect(r.reasons()).toEqual(['loop: has not completed a poll yet']);
    r.progressed('loop');
    now = 1000;
    expect(r.isReady()).toBe(true);
    now = 2500;
    expect(r.reasons()).toEqual(['loop: no a poll completed in 3 s (deadline 1 s)']);
    r.progressed('loop');
    expect(r.isReady()).toBe(true);
    r.forget('loop');
    now = 99_999;
    expect(r.isReady()).toBe(true);
  });
});

describe('pid files', () => {
  it('name one process: a live pid recorded with another start time (a reused pid) is not ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-pid-'));
    try {
      const file = join(dir, 'x.pid');
      writePidFile(file, process.pid);
      expect(livePidFromFile(file)).toBe(process.pid);
      const started = processStartTime(process.pid);
      expect(started).toMatch(/^\d+$/);
      writeFileSync(file, `${process.pid} ${Number(started) + 1}`);
      expect(livePidFromFile(file)).toBeUndefined();
      // Files written before start times were recorded still work.
      writeFileSync(file, String(process.pid));
      expect(livePidFromFile(file)).toBe(process.pid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LOG_LEVEL', () => {
  it('a bad level stops a service at start-up with a message naming the variable, not a logger crash', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/publisher/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'loud' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toMatch(/LOG_LEVEL: [^\n]*loud/);
    expect(out).not.toMatch(/custom levels/);
  }, 60_000);
});
