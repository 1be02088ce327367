/**
 * `crm import` on a large file: memory over time and rate. Writes an Online Retail layout CSV of
 * N invoice lines to the temp directory (never committed), then runs the real CLI on it with
 * --dry-run and into a fresh broker of its own (produce only, no ingest),
 * sampling the process's VmRSS every second.
 *
 *   pnpm bench:import [--rows 10000000] [--file existing.csv] [--only dry-run|produce]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { freePort, provisionKafka, startBroker, stopBroker } from '@crm/kafka-local';
import { REPO_ROOT, createLogger } from '@crm/runtime';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000000' }, file: { type: 'string' }, only: { type: 'string' } } });
const say = (line: string) => process.stderr.write(`${line}\n`);
const rows = Number(values.rows);

/** Invoices of 1–6 lines; 1 in 50 a C cancellation, 1 in 40 without CustomerID (skipped). Seeded, so runs compare. */
async function writeRetailCsv(file: string, n: number): Promise<void> {
  let seed = 16;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const write = (text: string) => (out.write(text) ? undefined : new Promise<void>((resolve) => out.once('drain', resolve)));
  await write('InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n');
  let written = 0;
  let invoice = 500_000;
  let minute = 0;
  let chunk = '';
  while (written < n) {
    invoice++;
    minute += int(0, 3);
    const day = Math.floor(minute / 1440);
    const date = `${1 + (Math.floor(day / 28) % 12)}/${1 + (day % 28)}/${2010 + Math.floor(day / 336)} ${Math.floor(minute / 60) % 24}:${String(minute % 60).padStart(2, '0')}`;
    const cancel = random() < 0.02;
    const customer = random() < 0.025 ? '' : String(12_000 + int(0, 99_999));
    const lines = Math.min(int(1, 6), n - written);
    for (let i = 0; i < lines; i++) {
      const q = int(1, 24);
      chunk += `${cancel ? 'C' : ''}${invoice},${int(10_000, 99_999)},SOME PRODUCT DESCRIPTION ${int(1, 999)},${cancel ? -q : q},${date},${int(1, 2000) / 100},${customer},United Kingdom\n`;
    }
    written += lines;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

interface Run {
  seconds: number;
  samples: [number, number][];
  report: { rows: number; events: number; sent: number; skipped: { events: number } };
}

/** The CLI as a user runs it, its VmRSS read from /proc every second. */
async function measure(args: string[], env: Record<string, string>, reportFile: string): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/crm.ts'), 'import', ...args, '--report', reportFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const samples: [number, number][] = [];
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      if (kb > 0) samples.push([Math.round((Date.now() - started) / 1000), Math.round(kb / 1024)]);
    } catch {
      // exited between ticks
    }
  }, 1000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`crm import exited with ${code}`);
  return { seconds: (Date.now() - started) / 1000, samples, report: JSON.parse(readFileSync(reportFile, 'utf8')) as Run['report'] };
}

function summary(name: string, run: Run): string {
  // The first 10 s are start-up (tsx compiling, the first batches); flat means the rest stays in a band.
  const steady = run.samples.filter(([t]) => t >= 10).map(([, mib]) => mib);
  const sorted = [...steady].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const third = Math.floor(steady.length / 3);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return (
    `${name}: ${run.report.rows.toLocaleString()} rows → ${run.report.events.toLocaleString()} orders (${run.report.sent.toLocaleString()} sent) in ${run.seconds.toFixed(0)} s = ` +
    `${Math.round(run.report.rows / run.seconds).toLocaleString()} rows/s; RSS after 10 s: min ${at(0)} / median ${at(0.5)} / max ${at(1)} MiB, ` +
    `mean of first third ${mean(steady.slice(0, third)).toFixed(0)} vs last third ${mean(steady.slice(-third)).toFixed(0)} MiB`
  );
}

const dir = mkdtempSync(join(tmpdir(), 'crm-bench-import-'));
try {
  const file = values.file ?? join(tmpdir(), `crm-bench-retail-${rows}.csv`);
  if (!existsSync(file)) {
    say(`writing ${rows.toLocaleString()} rows to ${file}`);
    await writeRetailCsv(file, rows);
  }
  const results: Record<string, Run> = {};
  if (values.only !== 'produce') {
    results.dryRun = await measure(['orders', '--preset', 'online-retail', '--currency', 'GBP', '--file', file, '--dry-run'], {}, join(dir, 'dry.json'));
    say(summary('dry run', results.dryRun));
  }
  if (values.only !== 'dry-run') {
    await provisionKafka(undefined, say);
    const brokerDir = join(dir, 'kafka');
    const broker = await startBroker({ dir: brokerDir, port: await freePort(), controllerPort: await freePort(), heap: '1g' });
    try {
      const kafka = createKafka({ KAFKA_BROKERS: broker.brokers }, { clientId: 'bench', logger: createLogger('bench', 'error') });
      await ensureTopics(kafka, Object.values(topicNames('bench')), 6);
      results.produce = await measure(
        ['orders', '--preset', 'online-retail', '--currency', 'GBP', '--file', file],
        { KAFKA_BROKERS: broker.brokers, CRM_TOPIC_NAMESPACE: 'bench' },
        join(dir, 'produce.json'),
      );
      say(summary('into Kafka', results.produce));
    } finally {
      await stopBroker(brokerDir);
    }
  }
  const out = join(REPO_ROOT, '.bench/import.json');
  mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results)}\n`);
  process.stdout.write(`\n${Object.entries(results).map(([k, r]) => summary(k, r)).join('\n')}\n(samples in ${out})\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
