import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@crm/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './support/raw-http.js';

/**
 * The host as data teams meet it: the service's own entry point, started with credentials,
 * driven by independent clients exactly as their users drive them: clickhouse-connect with its
 * defaults (lz4-compressed Native inserts, compressed results) and a pandas round trip, and the
 * JDBC driver DBeaver, Metabase and Grafana use (native LZ4 responses, batched inserts, and
 * optionally LZ4-framed requests).
 * Python packages come from scripts/bootstrap.sh (.local/python), the driver from Maven Central
 * (test/interop/pom.xml, into .local/interop/jdbc); where a tool is missing its case is skipped
 * with the reason in its title.
 */

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const INTEROP = join(REPO_ROOT, 'test/interop');
const PYTHON_PATH = join(REPO_ROOT, '.local/python');
const JDBC_JARS = join(REPO_ROOT, '.local/interop/jdbc');
const ROWS = 200_000;

const pythonEnv = { ...process.env, PYTHONPATH: [PYTHON_PATH, process.env.PYTHONPATH].filter(Boolean).join(':') };
const works = (command: string, args: string[], env = process.env) => spawnSync(command, args, { stdio: 'ignore', env }).status === 0;

function pythonMissing(): string | undefined {
  if (!works('python3', ['--version'])) return 'python3 is not installed';
  if (!works('python3', ['-c', 'import clickhouse_connect, pandas'], pythonEnv)) return 'clickhouse-connect or pandas is missing from .local/python (run scripts/bootstrap.sh)';
  return undefined;
}

/** Resolves the driver on first use, as packages/kafka-local resolves the broker. */
function jdbcMissing(): string | undefined {
  if (!works('java', ['-version'])) return 'java is not installed';
  const resolved = () => existsSync(JDBC_JARS) && readdirSync(JDBC_JARS).some((f) => f.startsWith('jdbc-v2-'));
  if (resolved()) return undefined;
  if (!works('mvn', ['-v'])) return 'Maven is not installed, so the JDBC driver cannot be resolved';
  const mvn = spawnSync('mvn', ['-B', '-q', '-f', join(INTEROP, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${JDBC_JARS}`], { encoding: 'utf8' });
  if (mvn.status !== 0 || !resolved()) return `Maven could not resolve com.clickhouse:clickhouse-jdbc: ${(mvn.stdout + mvn.stderr).slice(-500)}`;
  return undefined;
}

const skipPython = pythonMissing();
const skipJdbc = jdbcMissing();
for (const [client, reason] of [['clickhouse-connect', skipPython], ['JDBC', skipJdbc]] as const) {
  if (reason) console.warn(`interop.test: the ${client} cases are skipped: ${reason}`);
}
const title = (text: string, reason: string | undefined) => (reason ? `${text} (skipped: ${reason})` : text);

// The credentials the host is started with, and the ones every client is given.
const credentials = { user: 'default', password: randomBytes(12).toString('hex') };
let dir: string;
let port: number;
let stop: () => Promise<void>;

/** Starts the entry point the way `crm up` does and reads its port from the `listening` line. */
async function startHost(env: Record<string, string>): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: dirname(MAIN),
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start in 60 s:\n${output.slice(-2000)}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+)[^\n]*"msg":"listening"|"msg":"listening"[^\n]*"port":(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1] ?? match[2]));
      }
    });
    void exited.then(() => reject(new Error(`the host exited:\n${output.slice(-2000)}`)));
  });
  return {
    port: listening,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a client program; it prints one JSON object of what it saw. */
function runClient(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...env, CH_HOST: '127.0.0.1', CH_PORT: String(port), CH_USER: credentials.user, CH_PASSWORD: credentials.password, ROWS: String(ROWS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Record<string, unknown>);
      else reject(new Error(`${command} exited with ${code}:\n${stderr.slice(-4000)}\n${stdout.slice(-1000)}`));
    });
  });
}

/** What the host itself holds, asked over HTTP with the same credentials. */
async function hostTotals(table: string): Promise<string> {
  const res = await rawRequest(`http://127.0.0.1:${port}/`, {
    body: `SELECT count(), sum(id) FROM ${table} FORMAT TSV`,
    headers: { 'X-ClickHouse-User': credentials.user, 'X-ClickHouse-Key': credentials.password },
  });
  return res.body.toString().trim();
}

const SUM_ID = (ROWS * (ROWS - 1)) / 2;

beforeAll(async () => {
  if (skipPython && skipJdbc) return;
  dir = mkdtempSync(join(tmpdir(), 'ch-host-interop-'));
  const host = await startHost({
    CRM_CLICKHOUSE_DATA_DIR: dir,
    CRM_CLICKHOUSE_PORT: '0',
    CLICKHOUSE_USER: credentials.user,
    CLICKHOUSE_PASSWORD: credentials.password,
  });
  port = host.port;
  stop = host.stop;
});

afterAll(async () => {
  await stop?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('independent clients against the host', () => {
  it.skipIf(skipPython)(
    title('clickhouse-connect with its defaults: lz4 Native inserts of 200 000 rows, compressed results, uncompressed inserts, a pandas round trip', skipPython),
    async () => {
      const seen = await runClient('python3', [join(INTEROP, 'clickhouse_connect_client.py')], pythonEnv);
      expect(seen).toMatchObject({
        written_rows: ROWS,
        count: ROWS,
        sum_id: SUM_ID,
        sum_amount: SUM_ID / 2,
        read_rows: ROWS,
        read_matches: true,
        uncompressed_count: ROWS,
        df_rows: ROWS,
        df_equal: true,
        df_score_sum: SUM_ID / 4,
        df_vip: Math.ceil(ROWS / 3),
        df_dtypes: { id: 'uint64', score: 'float64' },
      });
      expect(await hostTotals('interop.connect_rows')).toBe(`${ROWS}\t${SUM_ID}`);
      console.info(
        `clickhouse-connect ${ROWS} rows: insert ${(seen.insert_seconds as number).toFixed(2)} s, query ${(seen.query_seconds as number).toFixed(2)} s, insert_df ${(seen.insert_df_seconds as number).toFixed(2)} s`,
      );
    },
    180_000,
  );

  it.skipIf(skipJdbc).each([
    ['its defaults (native LZ4 responses)', ''],
    ['compressed requests too (decompress=true: native LZ4 blocks from lz4-java, checksummed)', 'decompress=true'],
  ])(
    title('the JDBC driver with %s: metadata, a batched insert of 200 000 rows, a full read through a ResultSet', skipJdbc),
    async (_name, properties) => {
      const seen = await runClient('java', ['-cp', join(JDBC_JARS, '*'), join(INTEROP, 'JdbcClient.java')], { ...process.env, JDBC_PROPERTIES: properties });
      expect(seen).toMatchObject({
        count: ROWS,
        sum_id: SUM_ID,
        sum_amount: SUM_ID / 2,
        read_rows: ROWS,
        read_sum_id: SUM_ID,
        read_sum_amount: SUM_ID / 2,
        names_match: true,
      });
      expect(String(seen.product)).toMatch(/^ClickHouse \d+\.\d+/);
      expect(await hostTotals('interop.jdbc_rows')).toBe(`${ROWS}\t${SUM_ID}`);
      console.info(`JDBC driver ${String(seen.driver)} ${properties || 'defaults'}, ${ROWS} rows: insert ${(seen.insert_seconds as number).toFixed(2)} s, query ${(seen.query_seconds as number).toFixed(2)} s`);
    },
    180_000,
  );
});
