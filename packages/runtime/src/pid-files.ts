import { existsSync, readFileSync, rmSync } from 'node:fs';
import { sleep } from './retry.js';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid recorded in `file`, if that process is still alive. */
export function livePidFromFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8'));
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined;
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
