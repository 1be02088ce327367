import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { sleep } from './retry.js';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * When the process started, in clock ticks since boot (Linux: field 22 of
 * /proc/<pid>/stat); undefined where that is not known. A pid is reused
 * after its process ends; pid and start time together name one process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Records `pid` with its start time, so a later reader can tell it from another process given the same pid. */
export function writePidFile(file: string, pid: number): void {
  const started = processStartTime(pid);
  writeFileSync(file, started === undefined ? String(pid) : `${pid} ${started}`);
}

/** The pid recorded in `file`, if that very process (same start time, where recorded) is still alive. */
export function livePidFromFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const [pidText, started] = readFileSync(file, 'utf8').trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return undefined;
  if (started !== undefined && processStartTime(pid) !== started) return undefined;
  return pid;
}

/**
 * Stops the process recorded in `file`: SIGTERM, then SIGKILL after the grace
 * period; waits until it is gone and removes the file. False if none ran.
 */
export async function stopProcessFromFile(file: string, graceMs: number): Promise<boolean> {
  const pid = livePidFromFile(file);
  rmSync(file, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isProcessAlive(pid)) await sleep(50);
  return true;
}
