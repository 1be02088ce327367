/**
 * `crm up`'s supervisor of one local service, as compose's `restart:` or
 * systemd's `Restart=always` would be: runs it, and restarts it after an exit
 * it did not ask for, with the dependency backoff (reset once it has run for a
 * minute), recording the restarts for `crm status`. SIGTERM or SIGINT stops
 * the service (SIGKILL after the grace period) and then the supervisor.
 *
 * usage: supervise.ts <name> <script>   (the pid file names this process)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DEPENDENCY_BACKOFF, REPO_ROOT, backoffDelay } from '@crm/runtime';
import { stackPaths } from './settings.js';
import { writeSupervision, type Supervision } from './supervision.js';

const [name, script] = process.argv.slice(2);
if (!name || !script) {
  process.stderr.write('usage: supervise.ts <name> <script>\n');
  process.exit(2);
}
const runDir = stackPaths().run;
const STABLE_MS = 60_000;
const GRACE_MS = 20_000;
const state: Supervision = { supervisor: process.pid, restarts: 0 };
let child: ChildProcess | undefined;
let stopping = false;
let failures = 0;
let timer: NodeJS.Timeout | undefined;

const say = (msg: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: new Date().toISOString(), service: 'supervisor', name, ...extra, msg })}\n`);

function start(): void {
  const startedAt = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script!)], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  child = proc;
  state.child = proc.pid;
  writeSupervision(runDir, name!, state);
  proc.on('exit', (code, signal) => {
    state.child = undefined;
    if (stopping) return;
    failures = Date.now() - startedAt >= STABLE_MS ? 0 : failures + 1;
    const delayMs = backoffDelay(failures, DEPENDENCY_BACKOFF);
    state.restarts++;
    state.lastExit = { code, signal, at: new Date().toISOString() };
    writeSupervision(runDir, name!, state);
    say('service exited on its own; restarting', { code, signal, delayMs, restarts: state.restarts });
    timer = setTimeout(start, delayMs);
  });
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  const proc = child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) process.exit(0);
  const kill = setTimeout(() => proc.kill('SIGKILL'), GRACE_MS);
  proc.once('exit', () => {
    clearTimeout(kill);
    writeSupervision(runDir, name!, state);
    process.exit(0);
  });
  proc.kill('SIGTERM');
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
start();
