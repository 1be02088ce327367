import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@crm/runtime';
import { startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';

// `crm sql` as people run it: the launcher the README shows (bin/crm), its output in a real OS
// pipe to another process, against the real engine.
const LAUNCHER = join(REPO_ROOT, 'bin/crm');

let host: TestClickHouse;
beforeAll(async () => {
  host = await startTestClickHouse();
});
afterAll(async () => {
  await host?.stop();
});

const env = (clickhouse: TestClickHouse) => ({
  ...process.env,
  CLICKHOUSE_URL: clickhouse.url,
  CLICKHOUSE_USER: clickhouse.user,
  CLICKHOUSE_PASSWORD: clickhouse.password,
  CLICKHOUSE_DATABASE: 'default',
  NODE: process.execPath,
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ReturnType<typeof spawn>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs `command args…` directly (no shell between): arguments arrive exactly as given. */
function run(command: string, args: string[], options: { input?: string; clickhouse?: TestClickHouse } = {}): Promise<Run> {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: env(options.clickhouse ?? host), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.input ?? '');
  return collect(child);
}

/**
 * `crm sql "<query>" --format TSV | <reader>` run by bash, as a user's shell runs it: the reader
 * is its own process on the same OS pipe. Resolves with crm's exit status and stderr, and the reader's output.
 */
function pipeInto(query: string, reader: string, clickhouse: TestClickHouse = host, onReaderLog?: (text: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pipe-'));
  const files = { CRM_ERR: join(dir, 'crm.err'), CRM_STATUS: join(dir, 'crm.status') };
  const script = `"$CRM" sql "$QUERY" --format TSV 2>"$CRM_ERR" | ${reader}; echo "\${PIPESTATUS[0]}" >"$CRM_STATUS"`;
  const shell = spawn('bash', ['-c', script], {
    cwd: REPO_ROOT,
    env: { ...env(clickhouse), ...files, CRM: LAUNCHER, QUERY: query, SLOW_READER },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (onReaderLog) shell.stderr.on('data', (d: Buffer) => onReaderLog(d.toString()));
  return collect(shell).then((reading) => {
    const crm = { code: Number(readFileSync(files.CRM_STATUS, 'utf8')), stderr: readFileSync(files.CRM_ERR, 'utf8') };
    rmSync(dir, { recursive: true, force: true });
    return { crm, reader: reading.stdout };
  });
}

// Starts half a second late, then reads 16 KiB at a time with a pause between reads; says when
// the first rows are in (on stderr) and prints "<lines> <sum> <unterminated rest>" at the end.
const SLOW_READER = `
  let lines = 0, sum = 0, rest = '', first = true;
  setTimeout(() => {
    const readSome = () => {
      const chunk = process.stdin.read(16384);
      if (chunk === null) return process.stdin.once('readable', readSome);
      if (first) { first = false; process.stderr.write('reading\\n'); }
      const parts = (rest + chunk.toString()).split('\\n');
      rest = parts.pop();
      for (const p of parts) { lines += 1; sum += Number(p); }
      setTimeout(readSome, 2);
    };
    process.stdin.once('end', () => console.log(lines + ' ' + sum + ' ' + JSON.stringify(rest)));
    readSome();
  }, 500);
`;
const slowReader = '"$NODE" -e "$SLOW_READER"';

describe('crm sql into a pipe', () => {
  it('hands every one of 1 000 000 rows to a reader that starts late and reads slowly, and exits 0', async () => {
    const n = 1_000_000;
    const { crm, reader } = await pipeInto(`SELECT number FROM numbers(${n})`, slowReader);
    expect(crm).toEqual({ code: 0, stderr: '' });
    expect(reader.trim()).toBe(`${n} ${(n * (n - 1)) / 2} ""`);
  }, 120_000);

  it('ends quietly with 141 (as SIGPIPE would) when the reader leaves early: `| head -1`', async () => {
    const { crm, reader } = await pipeInto('SELECT number FROM numbers(5000000)', 'head -1');
    expect(reader).toBe('0\n');
    expect(crm).toEqual({ code: 141, stderr: '' });
  }, 120_000);

  it('exits 1 and says so when the result breaks off: the server dies mid-stream', async () => {
    const dying = await startTestClickHouse();
    try {
      // Once rows flow, the server goes away with most of the result still unsent.
      const { crm, reader } = await pipeInto('SELECT number FROM numbers(10000000)', slowReader, dying, (text) => {
        if (text.includes('reading')) process.kill(dying.pid!, 'SIGKILL');
      });
      expect(crm.code).toBe(1);
      expect(crm.stderr).toMatch(/^crm: the result broke off before its end .*: the output is incomplete\n$/);
      expect(Number(reader.split(' ')[0])).toBeLessThan(10_000_000);
    } finally {
      await dying.stop();
    }
  }, 120_000);
});

describe('crm sql passes the query untouched', () => {
  // Quotes, !=, backticks, a $ and a backslash, over several lines: what an analyst pastes.
  const query = [
    "SELECT 'a' != 'b' AS differs,",
    '       `n` * 2 AS "doubled",',
    "       concat('it''s ', '$HOME', ' \\\\ ok') AS text",
    'FROM (SELECT 21 AS `n`)',
    "WHERE 'x' != 'y'",
  ].join('\n');
  const expected = `${JSON.stringify({ differs: 1, doubled: 42, text: "it's $HOME \\ ok" })}\n`;

  it('as an argument to the launcher', async () => {
    const result = await run(LAUNCHER, ['sql', query, '--format', 'JSONEachRow']);
    expect(result).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('from standard input, and from --file', async () => {
    expect(await run(LAUNCHER, ['sql', '--format', 'JSONEachRow'], { input: `${query};\n` })).toEqual({ code: 0, stdout: expected, stderr: '' });
    const dir = mkdtempSync(join(tmpdir(), 'crm-sql-'));
    try {
      writeFileSync(join(dir, 'query.sql'), query);
      expect(await run(LAUNCHER, ['sql', '--file', join(dir, 'query.sql'), '--format', 'JSONEachRow'])).toEqual({ code: 0, stdout: expected, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through `pnpm crm`, for scripts, despite pnpm re-quoting the arguments through sh', async () => {
    const result = await run('pnpm', ['-s', 'crm', 'sql', query, '--format', 'JSONEachRow']);
    expect(result).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('through `pnpm exec crm` (the package’s bin)', async () => {
    const result = await run('pnpm', ['exec', 'crm', 'sql', query, '--format', 'JSONEachRow']);
    expect(result).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('reports a query ClickHouse refuses in one line, exit 1', async () => {
    const result = await run(LAUNCHER, ['sql', 'SELEC 1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^crm: .*Syntax error.*\n$/);
  });
});
