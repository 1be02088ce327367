/**
 * Scoring at scale: C customers with O orders (heavy-tailed: every customer
 * buys at least once, the rest of the orders go mostly to a few), generated
 * straight into the embedded ClickHouse for this benchmark only, then one full
 * scoring run in its own process: wall time and that process's peak memory.
 *
 *   pnpm bench:scoring [--customers 1000000] [--orders 10000000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { cpus, tmpdir, totalmem } from 'node:os';
import { createClickHouse, type ClickHouseClient, type ClickHouseConfig } from '@crm/clickhouse';
import { REPO_ROOT } from '@crm/runtime';
import { monthlyDiscountRate, simulateGammaGamma, simulateMbgnbd } from '@crm/models';
import { customerSummaryTsv, DEFAULT_SCORING_PARAMETERS } from '@crm/scoring';
import { migratedDatabase, startTestClickHouse } from '../test/support/clickhouse.js';
import { peakRssMiB, resetPeakRss } from './ephemeral-stack.js';

const AS_OF = '2026-10-31T00:00:00Z';

export interface ScoringMeasurement {
  customers: number;
  buyers: number;
  orders: number;
  generateSeconds: number;
  runSeconds: number;
  processWallSeconds: number;
  scoringPeakRssMiB: number;
  clickhousePeakRssMiB: number;
  /** The peer's time on the same summary, and its time over ours (absent when skipped or failed). */
  lifetimesSeconds?: number;
  versusLifetimes?: number;
  rows: string[][];
}

type LifetimesPeer =
  | { skipped: string }
  | { customers: number; loadSeconds: number; seconds: Record<string, number>; totalSeconds: number; params: Record<string, Record<string, number>>; error?: string };

const PYTHONPATH = join(REPO_ROOT, '.local/python');

/**
 * The peer: Python `lifetimes` fitting BG/NBD, MBG/NBD and Gamma-Gamma and
 * predicting P(alive) and 12-month CLV (bench/lifetimes-peer.py) on the same
 * customers' summary, written out by our own statistics after the timed run
 * (so its time starts from the summary; ours includes the pass over orders).
 */
async function measureLifetimes(config: ClickHouseConfig, say: (line: string) => void): Promise<LifetimesPeer> {
  const python = (args: string[]) => spawnSync('python3', args, { env: { ...process.env, PYTHONPATH }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const probe = python(['-c', 'import lifetimes']);
  if (probe.error || probe.status !== 0) {
    return { skipped: `${probe.error ? 'python3 not found' : 'the Python package lifetimes is not installed'} (scripts/bootstrap.sh installs it into .local/python)` };
  }
  const clickhouse = createClickHouse(config);
  const file = join(mkdtempSync(join(tmpdir(), 'crm-bench-summary-')), 'summary.tsv');
  try {
    writeFileSync(file, await customerSummaryTsv(clickhouse, new Date(AS_OF), DEFAULT_SCORING_PARAMETERS.windowDays));
    say('lifetimes on the same summary…');
    const run = python([join(REPO_ROOT, 'bench/lifetimes-peer.py'), file, String(monthlyDiscountRate(DEFAULT_SCORING_PARAMETERS.clvAnnualDiscountRate))]);
    if (run.status !== 0) throw new Error(`lifetimes peer exited with ${run.status}: ${run.stderr.slice(-2000)}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as LifetimesPeer;
  } finally {
    await clickhouse.close();
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

/**
 * C customers with about O orders before `asOf`, generated straight into ClickHouse: customers
 * drawn from known MBG/NBD and Gamma-Gamma parameters (`truth`), each one's summary expanded
 * into orders in SQL. Returns how many orders that made.
 */
export async function generateScoringLoad(
  clickhouse: ClickHouseClient,
  load: { customers: number; orders: number; asOf: string },
  say: (line: string) => void,
): Promise<{ generated: number; truth: { mbgnbd: { r: number; alpha: number; a: number; b: number }; gammaGamma: { p: number; q: number; v: number } } }> {
  say(`generating ${load.customers.toLocaleString()} customers with ${load.orders.toLocaleString()} orders in ClickHouse…`);
  // Customers drawn from known MBG/NBD and Gamma-Gamma parameters (days, observed for up to three
  // years), so the fits have something true to find. Each
  // customer's summary is expanded into orders in SQL: x + 1 purchase days spread over t_x days,
  // the first T days before as_of, repeat days worth m̄ each.
  const truth = { mbgnbd: { r: 0.9, alpha: 30, a: 0.8, b: 6 }, gammaGamma: { p: 6, q: 4, v: 15 } };
  // Calibrated by measurement: dropout damps the effect of the rate, so this lands near the asked orders.
  const scale = load.orders / load.customers / 6.4;
  const drawn = simulateMbgnbd({ ...truth.mbgnbd, alpha: truth.mbgnbd.alpha / scale }, { customers: load.customers, T: { min: 30, max: 1095 }, seed: 7, wholeDays: true });
  const spend = simulateGammaGamma(truth.gammaGamma, drawn.map((c) => c.x), { seed: 8 });
  await clickhouse.command({ query: 'CREATE TABLE bench_customers (c UInt64, x UInt32, t_x UInt32, T UInt32, mbar Float64, first Float64) ENGINE = Memory' });
  for (let i = 0; i < load.customers; i += 200_000) {
    const values = drawn.slice(i, i + 200_000).map((c, j) => ({
      c: i + j,
      x: c.x,
      t_x: Math.round(c.t_x),
      T: Math.round(c.T),
      mbar: Math.round(spend[i + j]!.mbar * 100) / 100,
      first: Math.round(spend[i + j]!.meanValue * 100) / 100,
    }));
    await clickhouse.insert({ table: 'bench_customers', values, format: 'JSONEachRow' });
    say(`  ${Math.min(i + 200_000, load.customers).toLocaleString()} customers drawn`);
  }
  await clickhouse.command({
    query: `
      INSERT INTO orders (event_id, occurred_at, schema_version, order_id, customer_id, status, placed_at, total,
                          refunded_amount, currency, fx_rate, channel, payment_method, items, source_partition, source_offset)
      SELECT generateUUIDv4(cityHash64(c, k)), placed, 1, concat('o', toString(c), '-', toString(k)), concat('c', toString(c)),
             'delivered', placed, toDecimal64(if(k = 0, greatest(first, 1), mbar), 4), 0, 'USD', 1, 'web', 'credit', [], 0, c
      FROM
      (
        SELECT c, k, mbar, first,
               toDateTime64({as_of:DateTime64(3, 'UTC')}, 3, 'UTC')
                 - toIntervalDay(T - if(x = 0, 0, toUInt32(round(k * t_x / x)))) - toIntervalSecond(1 + cityHash64(c, k) % 3600) AS placed
        FROM bench_customers
        ARRAY JOIN range(x + 1) AS k
      )`,
    query_params: { as_of: Date.parse(load.asOf) / 1000 },
    clickhouse_settings: { wait_end_of_query: 1 },
  });
  const [{ n }] = (await (await clickhouse.query({ query: 'SELECT count() AS n FROM orders', format: 'JSONEachRow' })).json<{ n: number }>()) as [{ n: number }];
  // The parameters the customers were drawn from (alpha scaled to the asked orders).
  return { generated: Number(n), truth: { ...truth, mbgnbd: { ...truth.mbgnbd, alpha: truth.mbgnbd.alpha / scale } } };
}

/** Generates the customers and orders in a ClickHouse host of its own, then times one full run in its own process. */
export async function measureScoring(customers: number, orders: number, say: (line: string) => void): Promise<ScoringMeasurement> {
  const host = await startTestClickHouse();
  try {
    const { clickhouse, config } = await migratedDatabase(host, 'crm');

    const started = Date.now();
    const { generated, truth } = await generateScoringLoad(clickhouse, { customers, orders, asOf: AS_OF }, say);
    const generateSeconds = (Date.now() - started) / 1000;
    await clickhouse.close();

    say('scoring…');
    // The host's peak of the scoring run alone, not of generating its load.
    if (host.pid) resetPeakRss(host.pid);
    // BENCH_PROCESSES=1: which statements the host's peak comes from (system.processes, sampled).
    const statements = process.env.BENCH_PROCESSES ? sampleStatementMemory(createClickHouse(config)) : undefined;
    const scoringStarted = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/score-once.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, CLICKHOUSE_URL: host.url, CLICKHOUSE_PASSWORD: host.password, AS_OF, LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const line of d.toString().split('\n')) if (line.includes('"phase"')) say(`  ${JSON.parse(line).phase}: ${JSON.parse(line).ms} ms`);
      });
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`scoring exited with ${code}`))));
    });
    const wall = (Date.now() - scoringStarted) / 1000;
    for (const line of (await statements?.stop()) ?? []) say(`  host memory: ${line}`);
    const hostPeakMiB = host.pid ? peakRssMiB(host.pid) : Number.NaN;
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as {
      ms: number; customers: number; buyers: number; maxRssMiB: number;
      fits: { model: string; params: Record<string, number>; ll: number; groups: number }[];
      failures: { model: string; error: string }[];
    };
    const peer = await measureLifetimes(config, say);
    const ours = result.ms / 1000;
    const rows = [
      ['machine', `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`],
      ['orders generated', `${Number(generated).toLocaleString()} in ${generateSeconds.toFixed(1)} s`],
      ['customers scored', `${result.customers.toLocaleString()} (${result.buyers.toLocaleString()} buyers)`],
      ['true parameters', `mbgnbd ${JSON.stringify(truth.mbgnbd)}, gamma_gamma ${JSON.stringify(truth.gammaGamma)}`],
      ['scoring run (in process)', `${(result.ms / 1000).toFixed(1)} s`],
      ['scoring process wall (incl. start-up)', `${wall.toFixed(1)} s`],
      ['scoring process peak RSS', `${result.maxRssMiB.toFixed(0)} MiB`],
      ...(host.pid ? [['ClickHouse host peak RSS (the run)', `${hostPeakMiB.toFixed(0)} MiB`]] : []),
      ...result.fits.map((f) => [
        `fit ${f.model}`,
        `${Object.entries(f.params).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ')} LL=${f.ll.toFixed(0)} (${f.groups.toLocaleString()} groups)`,
      ]),
      ...result.failures.map((f) => [`fit ${f.model}`, `FAILED: ${f.error}`]),
      ...('skipped' in peer
        ? [['scoring vs lifetimes', `skipped: ${peer.skipped}`]]
        : [
            [
              'peer: lifetimes on the same summary',
              `${peer.totalSeconds.toFixed(1)} s (${Object.entries(peer.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}; reading the TSV ${peer.loadSeconds.toFixed(1)} s, not counted)`,
            ],
            ...Object.entries(peer.params).map(([model, params]) => [`lifetimes ${model}`, Object.entries(params).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ')]),
            ...(peer.error ? [['lifetimes', `FAILED: ${peer.error}`]] : []),
            ['scoring vs lifetimes', peer.error ? 'n/a (a lifetimes fit failed)' : `${(peer.totalSeconds / ours).toFixed(1)}×`],
          ]),
    ];
    return {
      customers: result.customers,
      buyers: result.buyers,
      orders: Number(generated),
      generateSeconds,
      runSeconds: result.ms / 1000,
      processWallSeconds: wall,
      scoringPeakRssMiB: result.maxRssMiB,
      clickhousePeakRssMiB: hostPeakMiB,
      ...(!('skipped' in peer) && !peer.error && { lifetimesSeconds: peer.totalSeconds, versusLifetimes: peer.totalSeconds / ours }),
      rows: rows as string[][],
    };
  } finally {
    await host.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { customers: { type: 'string', default: '1000000' }, orders: { type: 'string', default: '10000000' } } });
  const result = await measureScoring(Number(values.customers), Number(values.orders), (line) => process.stderr.write(`${line}\n`));
  const width = Math.max(...result.rows.map((r) => r[0]!.length));
  process.stdout.write(`\n${result.rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n')}\n`);
}

/**
 * Samples the host's running statements every 100 ms and keeps each one's peak memory: the
 * embedded engine has no query log, so this is how a statement's share of the host's peak shows.
 */
function sampleStatementMemory(clickhouse: ClickHouseClient): { stop(): Promise<string[]> } {
  const peaks = new Map<string, { query: string; peak: number; at: number }>();
  let stopped = false;
  const started = Date.now();
  const sampling = (async () => {
    while (!stopped) {
      try {
        const rows = await (
          await clickhouse.query({ query: "SELECT query_id, query, peak_memory_usage AS peak FROM system.processes WHERE query NOT LIKE '%system.processes%'", format: 'JSONEachRow' })
        ).json<{ query_id: string; query: string; peak: string }>();
        for (const r of rows) {
          const known = peaks.get(r.query_id);
          if (!known || Number(r.peak) > known.peak) peaks.set(r.query_id, { query: r.query.replace(/\s+/g, ' ').slice(0, 100), peak: Number(r.peak), at: known?.at ?? Date.now() - started });
        }
      } catch {
        // A sample lost to a busy host is a gap, not a failure.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      await clickhouse.close();
      return [...peaks.values()]
        .sort((a, b) => b.peak - a.peak)
        .slice(0, 6)
        .map((p) => `${(p.peak / 2 ** 20).toFixed(0)} MiB at ${(p.at / 1000).toFixed(1)} s: ${p.query}`);
    },
  };
}
