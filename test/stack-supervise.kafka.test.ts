import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProcessAlive } from '@crm/runtime';
import { startProcess } from '../packages/cli/src/stack/processes.js';
import { readSupervision } from '../packages/cli/src/stack/supervision.js';
import { runCli } from './support/cli.js';
import { useTestInfrastructure } from './support/harness.js';
import { createTestTopics } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

const infra = useTestInfrastructure();

describe('crm up supervises the local services', () => {
  it('restarts a crashed service with backoff, counts the restart in crm status, and crm down stops service and supervisor', { timeout: 240_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'crm-home-'));
    const env = infra.env({ CRM_HOME: home });
    await createTestTopics(infra.kafka, env.CRM_TOPIC_NAMESPACE);
    const dirs = { logs: join(home, 'logs'), run: join(home, 'run') };
    const log = join(dirs.logs, 'ingest.log');
    const running = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"msg":"ingest running"')).length : 0);
    try {
      const started = startProcess({ name: 'ingest', script: 'services/ingest/src/main.ts', env }, dirs);
      expect(started.started).toBe(true);
      await waitUntil(async () => running(), (n) => n === 1, 120_000);
      const first = readSupervision(dirs.run, 'ingest')!;
      expect(first).toMatchObject({ supervisor: started.pid, restarts: 0 });

      // A crash: the supervisor starts it again, and says so.
      process.kill(first.child!, 'SIGKILL');
      await waitUntil(async () => running(), (n) => n === 2, 120_000);
      const second = readSupervision(dirs.run, 'ingest')!;
      expect(second.restarts).toBe(1);
      expect(second.lastExit).toMatchObject({ code: null, signal: 'SIGKILL' });
      expect(second.child).not.toBe(first.child);
      expect(isProcessAlive(second.child!)).toBe(true);

      const status = await runCli(['status'], env);
      expect(status.stdout).toMatch(new RegExp(`ingest\\s+pid ${started.pid}\\s+restarts 1`));

      const down = await runCli(['down'], env);
      expect(down.stderr, down.stderr).toContain('ingest stopped');
      expect(isProcessAlive(started.pid)).toBe(false);
      await waitUntil(async () => isProcessAlive(second.child!), (alive) => !alive, 30_000);
      // A stop that was asked for is not a restart.
      expect(readSupervision(dirs.run, 'ingest')!.restarts).toBe(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
