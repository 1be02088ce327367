import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CrmError, isProcessAlive, livePidFromFile, sleep, stopProcessFromFile, writePidFile } from '@crm/runtime';
import { log4jProperties, scramFormatArgs, serverProperties, type BrokerPorts, type SaslSslListener } from './broker-config.js';
import { DEFAULT_LIBS_DIR } from './provision.js';

export interface BrokerOptions extends BrokerPorts {
  /** Holds the broker's config, data, log and pid file. */
  dir: string;
  libsDir?: string;
  heap?: string;
  startTimeoutMs?: number;
  /** An extra SASL_SSL listener (tests of transport security); its SCRAM users are made when storage is formatted. */
  saslSsl?: SaslSslListener;
}

export interface BrokerInfo {
  brokers: string;
  pid: number;
  logFile: string;
  /** False when an already-running broker was found. */
  started: boolean;
}

const paths = (dir: string) => ({
  data: join(dir, 'data'),
  properties: join(dir, 'server.properties'),
  log4j: join(dir, 'log4j2.properties'),
  log: join(dir, 'broker.log'),
  stdout: join(dir, 'broker.out'),
  pid: join(dir, 'broker.pid'),
  ports: join(dir, 'ports.json'),
});

/**
 * Starts a single KRaft node on 127.0.0.1, or finds the one already running
 * in `dir`. Resolves once the broker accepts clients.
 */
export async function startBroker(options: BrokerOptions): Promise<BrokerInfo> {
  const p = paths(options.dir);
  const brokers = `127.0.0.1:${options.port}`;
  const running = runningPid(options.dir);
  if (running !== undefined) {
    await waitForBroker(options.port, running, p.log, options.startTimeoutMs ?? 60_000);
    return { brokers, pid: running, logFile: p.log, started: false };
  }

  mkdirSync(options.dir, { recursive: true });
  const ports = JSON.stringify({ port: options.port, controllerPort: options.controllerPort });
  // A standalone KRaft format records the controller's address: new ports need a new cluster.
  if (existsSync(p.ports) && readFileSync(p.ports, 'utf8') !== ports) rmSync(p.data, { recursive: true, force: true });
  writeFileSync(p.properties, serverProperties(p.data, options, options.saslSsl));
  writeFileSync(p.log4j, log4jProperties(p.log));
  writeFileSync(p.ports, ports);

  const classpath = `${options.libsDir ?? DEFAULT_LIBS_DIR}/*`;
  if (!existsSync(join(p.data, 'meta.properties'))) {
    const clusterId = java(classpath, ['kafka.tools.StorageTool', 'random-uuid']).trim();
    java(classpath, ['kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', p.properties, '--ignore-formatted', ...scramFormatArgs(options.saslSsl)]);
  }

  // Readiness is read from the log, so a previous run's log must not answer for this one.
  if (existsSync(p.log)) renameSync(p.log, `${p.log}.1`);
  const out = openSync(p.stdout, 'a');
  const child = spawn(
    'java',
    [
      `-Xms256m`,
      `-Xmx${options.heap ?? '512m'}`,
      '-XX:+UseG1GC',
      `-Dlog4j2.configurationFile=${p.log4j}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      p.properties,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new CrmError('KAFKA_PROVISION_FAILED', 'could not start java for the Kafka broker');
  writePidFile(p.pid, child.pid);
  await waitForBroker(options.port, child.pid, p.log, options.startTimeoutMs ?? 60_000);
  return { brokers, pid: child.pid, logFile: p.log, started: true };
}

/** Stops the broker in `dir` (SIGTERM, then SIGKILL after the grace period). Returns false if none ran. */
export function stopBroker(dir: string, graceMs = 30_000): Promise<boolean> {
  return stopProcessFromFile(paths(dir).pid, graceMs);
}

/** The broker's pid if a broker started from `dir` is still alive. */
export function runningPid(dir: string): number | undefined {
  return livePidFromFile(paths(dir).pid);
}

function java(classpath: string, args: string[]): string {
  const result = spawnSync('java', ['-cp', classpath, ...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new CrmError('KAFKA_PROVISION_FAILED', `java ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Ready when the log says so and the port accepts connections; fails fast if the JVM dies. */
async function waitForBroker(port: number, pid: number, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) {
      throw new CrmError('KAFKA_PROVISION_FAILED', `the Kafka broker exited during start-up; see ${logFile}:\n${tail(logFile)}`);
    }
    if (logSaysStarted(logFile) && (await portOpen(port))) return;
    await sleep(250);
  }
  throw new CrmError('TIMEOUT', `the Kafka broker did not start within ${timeoutMs} ms; see ${logFile}:\n${tail(logFile)}`, {
    retriable: true,
  });
}

function logSaysStarted(logFile: string): boolean {
  return existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Kafka Server started');
}

function tail(file: string, lines = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
