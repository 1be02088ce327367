import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a service's supervisor records: its own pid, the service's, and how often it had to restart it. */
export interface Supervision {
  supervisor: number;
  child?: number | undefined;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

const file = (runDir: string, name: string) => join(runDir, `${name}.supervision.json`);

export function writeSupervision(runDir: string, name: string, state: Supervision): void {
  writeFileSync(file(runDir, name), JSON.stringify(state));
}

export function readSupervision(runDir: string, name: string): Supervision | undefined {
  const path = file(runDir, name);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Supervision;
  } catch {
    return undefined;
  }
}
