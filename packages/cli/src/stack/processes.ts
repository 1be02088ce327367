import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, livePidFromFile, stopProcessFromFile, writePidFile } from '@crm/runtime';

/** A background Node process of the stack, run from TypeScript source with tsx. */
export interface ManagedProcess {
  name: string;
  script: string;
  env: Record<string, string>;
}

export function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

export function livePid(runDir: string, name: string): number | undefined {
  return livePidFromFile(pidFile(runDir, name));
}

/**
 * Starts the process detached under its supervisor (supervise.ts: restarts it with backoff
 * after an exit it did not ask for), logging to `<logs>/<name>.log`; a live one is left alone.
 * The pid file names the supervisor: stopping it stops the service.
 */
export function startProcess(proc: ManagedProcess, dirs: { logs: string; run: string }): { pid: number; started: boolean; log: string } {
  mkdirSync(dirs.logs, { recursive: true });
  mkdirSync(dirs.run, { recursive: true });
  const log = join(dirs.logs, `${proc.name}.log`);
  const running = livePid(dirs.run, proc.name);
  if (running !== undefined) return { pid: running, started: false, log };
  const out = openSync(log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/stack/supervise.ts'), proc.name, proc.script], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...proc.env },
  });
  closeSync(out);
  child.unref();
  writePidFile(pidFile(dirs.run, proc.name), child.pid!);
  return { pid: child.pid!, started: true, log };
}

export function stopProcess(runDir: string, name: string, graceMs = 20_000): Promise<boolean> {
  return stopProcessFromFile(pidFile(runDir, name), graceMs);
}
