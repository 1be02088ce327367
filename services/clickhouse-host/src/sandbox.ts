import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';
import type { QueryRequest, Statement } from './http-request.js';
import { quoteString, sqlTokens, type SqlToken } from './sql-statement.js';

/**
 * What a server's configuration and grants keep from its users, enforced on
 * the SQL because chDB runs as clickhouse-local: there `file()` reads any path
 * the process can, ignoring user_files_path, and no grant limits url() or
 * remote(). So the statement is read token by token (the engine's own lexing
 * of case, comments, quoting and whitespace) and:
 * - every file path (`file()`, the File and SQLite engines, `FROM 'path'`,
 *   `INTO OUTFILE`, `FROM INFILE`, path settings) must be a plain string
 *   literal inside the user-files folder; relative ones are made absolute
 *   there, as a server resolves them against user_files_path;
 * - table functions, engines and dictionary sources that reach other hosts or
 *   run programs are refused unless configuration allows them by name.
 */

export interface SandboxOptions {
  /** The user-files folder (user_files_path); created by the host. */
  userFilesDir: string;
  /** Names (any case) from REMOTE_SOURCES to allow, or `*` for all. */
  allowedRemoteSources: readonly string[];
}

/** Reach other hosts, run programs or place data anywhere (a dynamic disk(type = local, path = ...)): url(), ENGINE = MySQL, SOURCE(HTTP(...)), ... */
export const REMOTE_SOURCES = new Set(
  [
    'url', 'urlCluster', 'remote', 'remoteSecure', 'cluster', 'clusterAllReplicas', 'fileCluster',
    's3', 's3Cluster', 'S3Queue', 'gcs', 'oss', 'cosn', 'hdfs', 'hdfsCluster',
    'azureBlobStorage', 'azureBlobStorageCluster', 'AzureQueue',
    'iceberg', 'icebergS3', 'icebergAzure', 'icebergHDFS', 'icebergCluster', 'icebergS3Cluster', 'icebergAzureCluster', 'icebergHDFSCluster',
    'deltaLake', 'deltaLakeS3', 'deltaLakeAzure', 'deltaLakeCluster', 'hudi', 'hudiCluster', 'paimon', 'paimonS3', 'paimonAzure', 'paimonHDFS',
    'mysql', 'MaterializedMySQL', 'postgresql', 'MaterializedPostgreSQL', 'mongodb', 'mongo', 'redis', 'jdbc', 'odbc', 'cassandra',
    'arrowFlight', 'ytsaurus', 'MeiliSearch', 'http', 'executable', 'executablePool', 'Kafka', 'RabbitMQ', 'NATS',
    'Distributed', 'ExternalDistributed', 'prometheusQuery', 'prometheusQueryRange', 'clickhouse', 'disk',
  ].map((name) => name.toLowerCase()),
);

/** Read or write local files; argument `pathArg` (File engine: 1, after the format) is the path. */
const FILE_FUNCTIONS = new Map<string, number>([
  ['file', 0],
  ['sqlite', 0],
  ['iceberglocal', 0],
  ['deltalakelocal', 0],
  ['paimonlocal', 0],
  ['filesystem', 0], // the database engine: CREATE DATABASE d ENGINE = Filesystem('/dir')
]);

/** Functions whose arguments are written with FROM in standard SQL. */
const SQL_FROM_FUNCTIONS = new Set(['TRIM', 'EXTRACT', 'SUBSTRING', 'SUBSTR', 'OVERLAY']);

/** Settings whose value is a file the engine reads or writes. */
const PATH_SETTINGS = new Set(['format_template_resultset', 'format_template_row', 'format_schema', 'output_format_schema']);

/** What readonly=2 (HTTP GET) lets run: reads and settings. */
const READ_ONLY_KEYWORDS = new Set(['SELECT', 'WITH', '(', 'FROM', 'SHOW', 'DESC', 'DESCRIBE', 'EXISTS', 'EXPLAIN', 'CHECK', 'SET', 'USE']);

const pathDenied = (message: string) => ClickHouseException.of(ErrorCode.PATH_ACCESS_DENIED, message);

interface Edit {
  start: number;
  end: number;
  text: string;
}

export class Sandbox {
  readonly #dir: string;
  readonly #allowed: Set<string>;

  constructor(options: SandboxOptions) {
    this.#dir = resolve(options.userFilesDir);
    this.#allowed = new Set(options.allowedRemoteSources.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
  }

  get userFilesDir(): string {
    return this.#dir;
  }

  /** The request as the engine may run it (relative file paths made absolute), or a ClickHouse exception. */
  apply(request: QueryRequest): QueryRequest {
    for (const [name, value] of Object.entries(request.settings)) this.#checkPathSetting(name, value);
    const statement = this.#statement(request.statement, request.params);
    return statement === request.statement ? request : { ...request, statement };
  }

  /**
   * HTTP GET runs with readonly=2; a request in a session runs on the session's
   * connection, where readonly could not be lifted again, so the statement kind is checked here instead.
   */
  static assertReadOnly(statement: Statement): void {
    const keyword = statement.type === 'insert' ? 'INSERT' : statement.keyword;
    if (!READ_ONLY_KEYWORDS.has(keyword)) {
      throw ClickHouseException.of(
        ErrorCode.READONLY,
        'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries',
      );
    }
  }

  #statement(statement: Statement, params: Record<string, string>): Statement {
    if (statement.type === 'query') {
      const sql = this.#rewrite(Buffer.from(statement.sql, 'utf8'), params);
      return sql === undefined ? statement : { ...statement, sql };
    }
    // A body spooled to a file is read with the host's own FROM INFILE '<spool file>': that one path is allowed, once.
    const header = this.#rewrite(Buffer.from(statement.header, 'utf8'), params, statement.spooled?.file);
    // Values data is parsed as expressions (input_format_values_interpret_expressions), so it may call functions too.
    if (statement.expectsData && /\b(?:VALUES|FORMAT\s+[`"]?Values[`"]?)\s*$/i.test(statement.header)) this.#scanValues(statement.data);
    return header === undefined ? statement : { ...statement, header };
  }

  /** Rows of a Values insert: no file or remote function at all (one pass, no token list: the data may be large). */
  #scanValues(data: Buffer): void {
    let prev: SqlToken | undefined;
    for (const t of sqlTokens(data)) {
      if (prev && (prev.kind === 'word' || prev.kind === 'quoted') && t.kind === 'punct' && data[t.start] === 0x28) {
        const raw = data.toString('utf8', prev.start, prev.end);
        const name = (prev.kind === 'quoted' ? raw.slice(1, -1) : raw).toLowerCase();
        if (FILE_FUNCTIONS.has(name) || this.#refused(name)) throw ClickHouseException.of(ErrorCode.ACCESS_DENIED, `${raw}() is not allowed in inserted data`);
      }
      prev = t;
    }
  }

  #refused(name: string): boolean {
    return REMOTE_SOURCES.has(name) && !this.#allowed.has('*') && !this.#allowed.has(name);
  }

  /** Checks `src`; returns its text with relative paths made absolute, or undefined if nothing changed. */
  #rewrite(src: Buffer, params: Record<string, string>, hostInfile?: string): string | undefined {
    let hostInfileLeft = hostInfile;
    const tokens = [...sqlTokens(src)];
    const statementKeyword = tokens[0]?.kind === 'word' ? src.toString('latin1', tokens[0].start, tokens[0].end).toUpperCase() : '';
    const definesObjects = ['INSERT', 'CREATE', 'ATTACH', 'REPLACE'].includes(statementKeyword);
    const text = (t: SqlToken | undefined) => (t === undefined ? '' : src.toString('utf8', t.start, t.end));
    const word = (t: SqlToken | undefined) => (t?.kind === 'word' ? text(t).toUpperCase() : '');
    const isPunct = (t: SqlToken | undefined, ch: string) => t?.kind === 'punct' && text(t) === ch;
    const edits: Edit[] = [];

    // The function each open parenthesis belongs to ('' for a subquery or tuple), innermost last.
    const calls: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const prev = tokens[i - 1];
      const next = tokens[i + 1];
      if (t.kind === 'punct') {
        const c = src[t.start];
        if (c === 0x28) calls.push(prev?.kind === 'word' ? text(prev).toUpperCase() : '');
        else if (c === 0x29) calls.pop();
      }

      // clickhouse-local's default database also reads `FROM "/any/path"` (its Filesystem layer): a quoted name with a slash is a path.
      if (t.kind === 'quoted' && text(t).includes('/')) this.#inside(literal(src, t, 'a table name'), 'a table name');
      // ... and so does a {name:Identifier} parameter holding one.
      if (isPunct(t, '{') && tokens[i + 2] && isPunct(tokens[i + 2], ':') && word(tokens[i + 3]) === 'IDENTIFIER') {
        const value = params[text(tokens[i + 1])];
        if (value?.includes('/') && !(isAbsolute(value) && this.#inside(value, 'an Identifier parameter'))) {
          throw pathDenied(`An Identifier parameter holding a path must be an absolute path inside ${this.#dir}`);
        }
      }
      if (t.kind === 'word' || t.kind === 'quoted') {
        const name = (t.kind === 'quoted' ? text(t).slice(1, -1) : text(t)).toLowerCase();
        const upper = name.toUpperCase();
        const afterEngine = word(prev) === 'ENGINE' || (isPunct(prev, '=') && word(tokens[i - 2]) === 'ENGINE');
        const call = isPunct(next, '(');
        // `INSERT INTO url (a, b)` and `CREATE TABLE s3 (...)` name tables; `db.url` is a table too.
        // (DESCRIBE TABLE s3(...) is a call, so only statements that define or fill objects have such names.)
        const namesTable = (definesObjects && ['INTO', 'TABLE', 'DICTIONARY', 'VIEW', 'DATABASE', 'EXISTS'].includes(word(prev))) || isPunct(prev, '.');
        if ((call && !namesTable) || afterEngine) {
          // A ClickHouse dictionary source is local unless it names a HOST.
          const remote = name === 'clickhouse' ? call && this.#refused('clickhouse') && argumentsName(src, tokens, i + 1, 'HOST') : this.#refused(name);
          if (remote) {
            throw ClickHouseException.of(
              ErrorCode.ACCESS_DENIED,
              `${text(t)} reaches outside this machine or the user-files folder, or runs a program, which the embedded ClickHouse host refuses; allow it with CRM_CLICKHOUSE_REMOTE_SOURCES=${name}`,
            );
          }
          const pathArg = name === 'file' && afterEngine ? 1 : FILE_FUNCTIONS.get(name);
          if (pathArg !== undefined && call) {
            this.#pathArgument(src, tokens, i + 1, pathArg, text(t), edits);
          }
        }
        // clickhouse-local reads `FROM 'path'` as file('path'); ATTACH ... FROM 'path' reads one too.
        // (Not the FROM of trim(... FROM 'x'), extract(DAY FROM '...') or substring('x' FROM 2).)
        if (upper === 'FROM' && next?.kind === 'string' && !SQL_FROM_FUNCTIONS.has(calls.at(-1) ?? '')) this.#path(src, next, 'FROM', edits);
        if (upper === 'INFILE' && word(prev) === 'FROM') {
          if (hostInfileLeft !== undefined && next?.kind === 'string' && literal(src, next, 'FROM INFILE') === hostInfileLeft) hostInfileLeft = undefined;
          else this.#outfile(src, next, 'FROM INFILE', edits);
        }
        if (upper === 'OUTFILE' && word(prev) === 'INTO') this.#outfile(src, next, 'INTO OUTFILE', edits);
        if (PATH_SETTINGS.has(name) && isPunct(next, '=')) {
          const value = tokens[i + 2];
          if (value?.kind !== 'string') throw pathDenied(`${name} must be a string literal naming a file inside ${this.#dir}`);
          this.#checkPathSetting(name, literal(src, value, name));
        }
      }
    }
    if (edits.length === 0) return undefined;
    let out = '';
    let at = 0;
    for (const edit of edits) {
      out += src.toString('utf8', at, edit.start) + edit.text;
      at = edit.end;
    }
    return out + src.toString('utf8', at);
  }

  /** The `index`-th argument of the call whose `(` is tokens[open] must be a path literal. */
  #pathArgument(src: Buffer, tokens: SqlToken[], open: number, index: number, fn: string, edits: Edit[]): void {
    let depth = 0;
    let arg = 0;
    const argTokens: SqlToken[] = [];
    for (let j = open; j < tokens.length; j++) {
      const t = tokens[j]!;
      const c = t.kind === 'punct' ? src.toString('latin1', t.start, t.end) : '';
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      if (depth === 0) break;
      if (depth === 1 && c === ',') {
        arg++;
        continue;
      }
      if (j === open) continue;
      if (arg === index) argTokens.push(t);
    }
    if (argTokens.length === 0) return; // File(TSV): the table's own file in the data directory
    if (argTokens.length !== 1 || argTokens[0]!.kind !== 'string') {
      throw pathDenied(`the path given to ${fn}() must be a string literal (a file inside ${this.#dir}), not an expression, a parameter or a file descriptor`);
    }
    this.#path(src, argTokens[0]!, `${fn}()`, edits);
  }

  #outfile(src: Buffer, t: SqlToken | undefined, clause: string, edits: Edit[]): void {
    if (t?.kind !== 'string') throw ClickHouseException.of(ErrorCode.INTO_OUTFILE_NOT_ALLOWED, `${clause} needs a string literal naming a file inside ${this.#dir}`);
    try {
      this.#path(src, t, clause, edits);
    } catch (error) {
      if (error instanceof ClickHouseException && clause === 'INTO OUTFILE') throw ClickHouseException.of(ErrorCode.INTO_OUTFILE_NOT_ALLOWED, error.message);
      throw error;
    }
  }

  /** Checks the literal `t` names a path inside the folder; a relative one is rewritten to its absolute form. */
  #path(src: Buffer, t: SqlToken, where: string, edits: Edit[]): void {
    const path = literal(src, t, where);
    const absolute = this.#inside(path, where);
    if (!isAbsolute(path)) edits.push({ start: t.start, end: t.end, text: quoteString(absolute) });
  }

  #inside(path: string, where: string): string {
    // `..` anywhere (even inside a {a,b} glob) could climb out; globs otherwise stay inside the folder they start in.
    if (path === '' || /[\0-\x1f]/.test(path) || /(?:^|[/{,])\.\.(?:$|[/},])/.test(path)) {
      throw pathDenied(`File path '${path}' in ${where} is not allowed: it must name a file inside ${this.#dir}`);
    }
    const absolute = resolve(this.#dir, path);
    const rel = relative(this.#dir, absolute);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw pathDenied(`File ${absolute} is not inside ${this.#dir} (the user-files folder, user_files_path)`);
    }
    return absolute;
  }

  #checkPathSetting(name: string, value: string): void {
    if (!PATH_SETTINGS.has(name) || value === '') return;
    const file = name === 'format_schema' ? value.split(':')[0]! : value;
    if (!isAbsolute(file)) throw pathDenied(`${name} must be an absolute path inside ${this.#dir}`);
    this.#inside(file, name);
  }
}

/** The value of a string literal; escapes are refused, so no spelling of a path can differ from what is checked. */
function literal(src: Buffer, t: SqlToken, where: string): string {
  const raw = src.toString('utf8', t.start, t.end);
  if (raw.startsWith('$')) return raw.slice(raw.indexOf('$', 1) + 1, raw.length - (raw.indexOf('$', 1) + 1));
  const body = raw.slice(1, -1);
  if (body.includes('\\')) throw pathDenied(`File paths in ${where} may not contain backslash escapes`);
  const quoteChar = raw[0]!;
  return body.split(quoteChar + quoteChar).join(quoteChar);
}


/** Whether the parenthesised arguments opening at tokens[open] contain the keyword `upper` at their top level. */
function argumentsName(src: Buffer, tokens: SqlToken[], open: number, upper: string): boolean {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j]!;
    const c = t.kind === 'punct' ? src.toString('latin1', t.start, t.end) : '';
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return false;
    else if (t.kind === 'word' && src.toString('latin1', t.start, t.end).toUpperCase() === upper) return true;
  }
  return false;
}
