import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  const clickhouse = await startTestClickHouse({ password: '' });
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
