import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, provisionKafka, startBroker, stopBroker } from '@crm/kafka-local';
import { startTestClickHouse, type TestClickHouse } from '../test/support/clickhouse.js';

/** A broker and an embedded ClickHouse of their own, in temporary directories, for one benchmark run. */
export async function startEphemeralStack(say: (line: string) => void): Promise<{ brokers: string; clickhouse: TestClickHouse; stop(): Promise<void> }> {
  await provisionKafka(undefined, say);
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-kafka-'));
  const broker = await startBroker({ dir, port: await freePort(), controllerPort: await freePort(), heap: '1g' });
  say(`Kafka on ${broker.brokers}`);
  // The measurements take a ClickHouse URL alone, so this host runs without a password (loopback only).
  // The peer is ClickHouse's Kafka engine, which the host's sandbox refuses unless allowed by name.
  // BENCH_DUMP=<dir>: the host logs every query (debug) into <dir>/host.jsonl.
  const dump = process.env.BENCH_DUMP;
  const clickhouse = await startTestClickHouse({
    password: '',
    env: { CRM_CLICKHOUSE_REMOTE_SOURCES: 'kafka', ...(dump && { LOG_LEVEL: 'debug' }) },
    ...(dump && { logTo: join(dump, 'host.jsonl') }),
  });
  say(`ClickHouse host on ${clickhouse.url}`);
  return {
    brokers: broker.brokers,
    clickhouse,
    stop: async () => {
      await clickhouse.stop();
      await stopBroker(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Peak resident memory (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/**
 * Starts a new peak for peakRssMiB (Linux: writing 5 to clear_refs resets VmHWM), so a figure
 * covers one step — the scoring run, not the generation of its load before it.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** CPU time (user + system) a live process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name (which may hold spaces).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS = 100;
