import { sleep } from '@crm/runtime';
import type { ServiceProcess } from './processes.js';

/** What a service's /readyz says now: 200 and 'ready', or 503 and why not. */
export async function readyz(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: await response.text() };
}

/** The health port a service logged when its health server started listening. */
export async function healthPort(service: ServiceProcess, timeoutMs = 60_000): Promise<number> {
  const line = await service.waitForLog((l) => l.msg === 'health server listening', timeoutMs);
  return Number(line.healthPort);
}

/** Polls /readyz until it answers `status`; fails with the last answer (and if the process exited, says so). */
export async function waitForReadiness(service: ServiceProcess, port: number, status: 200 | 503, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, body: '' };
  for (;;) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`the service exited (code ${service.child.exitCode}, signal ${service.child.signalCode}) while waiting for /readyz ${status}`);
    }
    last = await readyz(port).catch((error: unknown) => ({ status: -1, body: String(error) }));
    if (last.status === status) return last.body;
    if (Date.now() > deadline) throw new Error(`/readyz did not answer ${status} in ${timeoutMs} ms; last: ${last.status} ${last.body}`);
    await sleep(250);
  }
}

export const isRunning = (service: ServiceProcess): boolean => service.child.exitCode === null && service.child.signalCode === null;
