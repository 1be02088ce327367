/**
 * An idle shop: C customers with their orders, the scoring service with its default settings
 * (schedule, incremental consumer, write lease), and then no new events. Once its first full
 * run is done (and a settling pause), the share of wall time it is busy is its CPU time
 * (utime + stime from /proc/<pid>/stat) over the window's wall time; the same is reported for
 * the ClickHouse host, which serves nothing else here (its own background work — merges,
 * system logs — is included: an upper bound of what scoring causes there).
 *
 *   pnpm bench:idle [--customers 1000000] [--orders 10000000] [--seconds 600] [--settle 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { createLogger, sleep } from '@crm/runtime';
import { migratedDatabase } from '../test/support/clickhouse.js';
import { spawnService } from '../test/support/processes.js';
import { startEphemeralStack } from './ephemeral-stack.js';
import { generateScoringLoad } from './scoring.js';

export interface IdleMeasurement {
  customers: number;
  orders: number;
  seconds: number;
  /** CPU seconds per wall second, in %: 100 is one core busy. */
  scoringSharePercent: number;
  clickhouseSharePercent: number;
  /** Work the scoring service did in the window, from its log. */
  fullRuns: number;
  timePasses: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** A process's user + system CPU time so far, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export async function measureIdle(options: { customers: number; orders: number; seconds: number; settleSeconds: number; say: (line: string) => void }): Promise<IdleMeasurement> {
  const { say } = options;
  const stack = await startEphemeralStack(say);
  const namespace = `idle${Date.now()}`;
  const kafka = createKafka({ KAFKA_BROKERS: stack.brokers }, { clientId: 'bench-idle', logger: createLogger('bench', 'error') });
  await ensureTopics(kafka, Object.values(topicNames(namespace)), 6);
  const { clickhouse } = await migratedDatabase(stack.clickhouse, 'idle');
  // Orders up to an hour ago: the shop was busy until then.
  const { generated } = await generateScoringLoad(clickhouse, { customers: options.customers, orders: options.orders, asOf: new Date(Date.now() - 3_600_000).toISOString() }, say);
  await clickhouse.close();
  const scoring = spawnService('services/scoring/src/main.ts', {
    KAFKA_BROKERS: stack.brokers,
    CLICKHOUSE_URL: stack.clickhouse.url,
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_PASSWORD: '',
    CLICKHOUSE_DATABASE: 'idle',
    CRM_TOPIC_NAMESPACE: namespace,
    SCORING_HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the scoring service, written when it stops.
  }, process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []);
  try {
    say('scoring service started; waiting for its first full run…');
    const first = await scoring.waitForLog((l) => l.msg === 'scoring run done', 3_600_000);
    say(`first full run: ${(Number(first.ms) / 1000).toFixed(1)} s; settling ${options.settleSeconds} s`);
    await sleep(options.settleSeconds * 1000);
    const lines = scoring.lines.length;
    const pids = { scoring: scoring.child.pid!, clickhouse: stack.clickhouse.pid! };
    const before = { scoring: cpuSeconds(pids.scoring), clickhouse: cpuSeconds(pids.clickhouse), at: Date.now() };
    for (let waited = 0; waited < options.seconds; waited += 60) {
      await sleep(Math.min(60, options.seconds - waited) * 1000);
      const wall = (Date.now() - before.at) / 1000;
      say(`  ${Math.round(wall)} s: scoring ${((100 * (cpuSeconds(pids.scoring) - before.scoring)) / wall).toFixed(1)} %, ClickHouse ${((100 * (cpuSeconds(pids.clickhouse) - before.clickhouse)) / wall).toFixed(1)} %`);
    }
    const wall = (Date.now() - before.at) / 1000;
    const window = scoring.lines.slice(lines);
    return {
      customers: options.customers,
      orders: generated,
      seconds: wall,
      scoringSharePercent: (100 * (cpuSeconds(pids.scoring) - before.scoring)) / wall,
      clickhouseSharePercent: (100 * (cpuSeconds(pids.clickhouse) - before.clickhouse)) / wall,
      fullRuns: window.filter((l) => l.msg === 'scoring run done').length,
      timePasses: window.filter((l) => l.msg === 'customers re-scored for the passage of time').length,
    };
  } finally {
    await scoring.kill('SIGTERM');
    await stack.stop();
  }
}

/** The table row, also printed by `pnpm bench`. */
export function idleRow(m: IdleMeasurement): [string, string] {
  return [
    `scoring share of one core at ${m.customers.toLocaleString('en-US')} customers, defaults, idle shop`,
    `${m.scoringSharePercent.toFixed(1)} % (ClickHouse host ${m.clickhouseSharePercent.toFixed(1)} %; over ${Math.round(m.seconds)} s, ${m.fullRuns} full runs, ${m.timePasses} time passes that re-scored anyone)`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '1000000' },
      orders: { type: 'string' },
      seconds: { type: 'string', default: '600' },
      settle: { type: 'string', default: '30' },
    },
  });
  const customers = Number(values.customers);
  const result = await measureIdle({
    customers,
    orders: Number(values.orders ?? customers * 10),
    seconds: Number(values.seconds),
    settleSeconds: Number(values.settle),
    say: (line) => process.stderr.write(`${line}\n`),
  });
  const [name, value] = idleRow(result);
  process.stdout.write(`\n${name}  ${value}\n`);
}
