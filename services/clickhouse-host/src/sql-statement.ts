/**
 * Just enough of ClickHouse's lexer to route a statement the way the HTTP
 * server would: which kind it is, where an INSERT's data begins, which output
 * format it asks for, and whether a second statement follows. It works on
 * bytes and stops at the start of INSERT data, so a request carrying tens of
 * megabytes of rows costs no more to analyse than its header.
 */

export interface StatementShape {
  /** First keyword, upper-cased (`SELECT`, `INSERT`, ...); `(` for a parenthesised query; `''` if there is no statement. */
  keyword: string;
  /**
   * For an INSERT whose data follows the header (`FORMAT <name>` or `VALUES`):
   * byte offset where the header ends and where the data starts, after
   * ClickHouse's rule of skipping blanks and one line break.
   */
  insertData?: {
    headerEnd: number;
    dataStart: number;
    /** Where `FORMAT <name>` (or `VALUES`) begins, and the format it names (`Values` for VALUES). */
    formatAt: number;
    format: string;
    /** Where a top-level `SETTINGS` clause before the format begins. */
    settingsAt?: number;
  };
  /** The name after the last top-level `FORMAT` of a non-INSERT statement. */
  outputFormat?: string;
  /** Byte offset of a statement following a top-level `;` (ClickHouse's HTTP interface refuses those). */
  secondStatementAt?: number;
}

type TokenKind = 'word' | 'quoted' | 'string' | 'punct';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const VT = 0x0b;
const FF = 0x0c;

function isBlank(b: number): boolean {
  return b === SPACE || b === TAB || b === LF || b === CR || b === VT || b === FF;
}

function isWordByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x5f || // _
    b === 0x24 || // $
    b >= 0x80 // any UTF-8 byte: ClickHouse allows non-ASCII identifiers
  );
}

class Lexer {
  private pos = 0;

  constructor(private readonly src: Buffer) {}

  /** Skips blanks and comments; returns the next token or undefined at the end (or on unterminated input). */
  next(): Token | undefined {
    const src = this.src;
    const n = src.length;
    for (;;) {
      while (this.pos < n && isBlank(src[this.pos]!)) this.pos++;
      if (this.pos >= n) return undefined;
      const b = src[this.pos]!;
      const b1 = this.pos + 1 < n ? src[this.pos + 1]! : -1;
      if ((b === 0x2d && b1 === 0x2d) || (b === 0x23 && (b1 === SPACE || b1 === 0x21))) {
        // `-- ...`, `# ...`, `#!...`: to end of line
        const eol = src.indexOf(LF, this.pos);
        this.pos = eol === -1 ? n : eol + 1;
        continue;
      }
      if (b === 0x2f && b1 === 0x2a) {
        // `/* ... */`, which ClickHouse lets nest
        let depth = 0;
        let i = this.pos;
        while (i < n) {
          if (src[i] === 0x2f && src[i + 1] === 0x2a) {
            depth++;
            i += 2;
          } else if (src[i] === 0x2a && src[i + 1] === 0x2f) {
            depth--;
            i += 2;
            if (depth === 0) break;
          } else i++;
        }
        if (depth !== 0) {
          this.pos = n;
          return undefined;
        }
        this.pos = i;
        continue;
      }
      break;
    }
    const start = this.pos;
    const b = src[start]!;
    if (b === 0x27 || b === 0x22 || b === 0x60) {
      // 'string', "identifier", `identifier`: backslash escapes and doubled quotes
      let i = start + 1;
      while (i < n) {
        const c = src[i]!;
        if (c === 0x5c) i += 2;
        else if (c === b) {
          if (src[i + 1] === b) i += 2;
          else break;
        } else i++;
      }
      if (i >= n) {
        this.pos = n;
        return undefined;
      }
      this.pos = i + 1;
      return { kind: b === 0x27 ? 'string' : 'quoted', start, end: this.pos };
    }
    if (b === 0x24) {
      // heredoc: $tag$ ... $tag$
      let i = start + 1;
      while (i < n && isWordByte(src[i]!) && src[i] !== 0x24) i++;
      if (i < n && src[i] === 0x24) {
        const tag = src.subarray(start, i + 1);
        const close = src.indexOf(tag, i + 1);
        if (close === -1) {
          this.pos = n;
          return undefined;
        }
        this.pos = close + tag.length;
        return { kind: 'string', start, end: this.pos };
      }
    }
    if (isWordByte(b)) {
      let i = start + 1;
      while (i < n && isWordByte(src[i]!)) i++;
      this.pos = i;
      return { kind: 'word', start, end: i };
    }
    this.pos = start + 1;
    return { kind: 'punct', start, end: this.pos };
  }
}

function wordIs(src: Buffer, t: Token | undefined, upper: string): boolean {
  if (!t || t.kind !== 'word' || t.end - t.start !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    let c = src[t.start + i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== upper.charCodeAt(i)) return false;
  }
  return true;
}

function punctIs(src: Buffer, t: Token | undefined, ch: string): boolean {
  return t !== undefined && t.kind === 'punct' && src[t.start] === ch.charCodeAt(0);
}

const OPENERS = new Set([0x28, 0x5b, 0x7b]); // ( [ {
const CLOSERS = new Set([0x29, 0x5d, 0x7d]); // ) ] }

/** ClickHouse: INSERT data starts after the format name, past blanks and at most one line break. */
function skipToData(src: Buffer, from: number): number {
  let i = from;
  while (i < src.length && (src[i] === SPACE || src[i] === TAB || src[i] === FF)) i++;
  if (src[i] === CR) i++;
  if (src[i] === LF) i++;
  return i;
}

export function analyzeStatement(input: Buffer | string): StatementShape {
  const src = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const lexer = new Lexer(src);
  const first = lexer.next();
  if (!first) return { keyword: '' };
  const keyword = first.kind === 'word' ? src.toString('latin1', first.start, first.end).toUpperCase() : src.toString('utf8', first.start, first.end);
  const shape: StatementShape = { keyword };
  const isInsert = keyword === 'INSERT';

  let settingsAt: number | undefined;
  let depth = first.kind === 'punct' && OPENERS.has(src[first.start]!) ? 1 : 0;
  // INSERT: the target (`INTO [TABLE] db.t` or `INTO FUNCTION f(...)`) comes first and may itself be named `format` or `values`.
  let insertState: 'before-target' | 'target' | 'function' | 'after-target' = 'before-target';
  let pending: Token | undefined;
  const take = (): Token | undefined => {
    if (pending) {
      const t = pending;
      pending = undefined;
      return t;
    }
    return lexer.next();
  };

  for (let t = take(); t; t = take()) {
    if (t.kind === 'punct') {
      const c = src[t.start]!;
      if (OPENERS.has(c)) depth++;
      else if (CLOSERS.has(c)) depth = Math.max(0, depth - 1);
      else if (c === 0x3b && depth === 0) {
        // a trailing `;` (or several) is fine; anything after it is a second statement
        let after = lexer.next();
        while (punctIs(src, after, ';')) after = lexer.next();
        if (after) shape.secondStatementAt = after.start;
        return shape;
      }
    }
    if (depth !== 0) continue;

    if (isInsert) {
      if (insertState === 'before-target') {
        if (wordIs(src, t, 'INTO') || wordIs(src, t, 'TABLE')) continue;
        if (wordIs(src, t, 'FUNCTION')) {
          insertState = 'function';
          continue;
        }
        insertState = 'target';
        // db.table: swallow `.name` pairs
        for (;;) {
          const dot = lexer.next();
          if (!punctIs(src, dot, '.')) {
            pending = dot;
            break;
          }
          lexer.next();
        }
        insertState = 'after-target';
        continue;
      }
      if (insertState === 'function') {
        // the function name; its argument list is skipped by the depth tracking
        insertState = 'after-target';
        continue;
      }
      if (wordIs(src, t, 'FORMAT')) {
        const name = lexer.next();
        if (name && (name.kind === 'word' || name.kind === 'quoted')) {
          const format = src.toString('utf8', name.start, name.end);
          shape.insertData = {
            headerEnd: name.end,
            dataStart: skipToData(src, name.end),
            formatAt: t.start,
            format,
            ...(settingsAt === undefined ? {} : { settingsAt }),
          };
        }
        return shape;
      }
      if (wordIs(src, t, 'VALUES')) {
        shape.insertData = {
          headerEnd: t.end,
          dataStart: skipToData(src, t.end),
          formatAt: t.start,
          format: 'Values',
          ...(settingsAt === undefined ? {} : { settingsAt }),
        };
        return shape;
      }
      if (wordIs(src, t, 'SETTINGS') && settingsAt === undefined) settingsAt = t.start;
      continue;
    }

    if (wordIs(src, t, 'FORMAT')) {
      const name = lexer.next();
      if (name && name.kind === 'word') shape.outputFormat = src.toString('utf8', name.start, name.end);
      else if (name) pending = name;
    }
  }
  return shape;
}

export interface SqlToken {
  kind: TokenKind;
  start: number;
  end: number;
}

/** Every token of `src` with blanks and comments skipped, as the engine's lexer splits it; stops at unterminated input. */
export function* sqlTokens(src: Buffer): Generator<SqlToken> {
  const lexer = new Lexer(src);
  for (let t = lexer.next(); t; t = lexer.next()) yield t;
}

/** A string literal holding `value`, escaped as ClickHouse reads it. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Whether `data` is whitespace only (an INSERT body with no rows). */
export function isBlankText(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (!isBlank(data[i]!)) return false;
  return true;
}
