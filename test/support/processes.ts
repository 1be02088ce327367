import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@crm/runtime';

export interface ServiceProcess {
  child: ChildProcess;
  /** Parsed pino lines printed so far. */
  lines: Record<string, unknown>[];
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Writes the parsed lines so far to `file`, one JSON object a line. */
  saveLog(file: string): void;
}

/** Runs a service's entry point as a real child process, as `crm up` does, and follows its JSON log. */
export function spawnService(script: string, env: Record<string, string>, nodeArgs: string[] = []): ServiceProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const waitForLog: ServiceProcess['waitForLog'] = (predicate, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${script}: expected log line not seen in ${timeoutMs} ms; last lines:\n${tail()}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`${script} exited before the expected log line:\n${tail()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.on('exit', onExit);
      check();
    });
  const tail = () => [...lines.slice(-10).map((l) => JSON.stringify(l)), stderr.slice(-2000)].join('\n');

  return {
    child,
    lines,
    waitForLog,
    exited,
    stderr: () => stderr,
    saveLog: (file) => writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n')),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
