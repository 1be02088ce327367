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

/** Busy and total CPU ticks of the whole machine (/proc/stat's first line; iowait counts as idle). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
}

/**
 * Waits until the machine is quiet (under `busyShare` of all cores busy over a second), at most
 * `maxSeconds`: what a section leaves running (the host merging the parts it inserted) would
 * otherwise land on whichever measurement comes next. Returns the seconds waited.
 */
export async function waitForQuietMachine(say: (line: string) => void, options: { busyShare?: number; maxSeconds?: number } = {}): Promise<number> {
  const { busyShare = 0.15, maxSeconds = 60 } = options;
  const started = Date.now();
  for (;;) {
    const before = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const after = machineTicks();
    const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    const waited = (Date.now() - started) / 1000;
    if (share < busyShare || waited >= maxSeconds) {
      say(`machine ${share < busyShare ? 'quiet' : 'still busy'} after ${waited.toFixed(0)} s (${(100 * share).toFixed(0)} % of the cores busy)`);
      return waited;
    }
  }
}
