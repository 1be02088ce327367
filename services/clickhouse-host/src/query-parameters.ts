/**
 * Query parameters substituted into the statement text, as ClickHouse's
 * server does in its AST (ReplaceQueryParameterVisitor): `{name:Type}`
 * becomes the value as a typed constant — a string literal for String, else
 * `_CAST('<text>', '<Type>')` — so the engine runs a statement without
 * bound parameters. Binding is not isolated between chDB connections (see
 * ChdbExecutor's gate), so every bound statement had to run alone; a
 * substituted one runs beside the others.
 *
 * Only what can be substituted exactly is: a placeholder outside string
 * literals, quoted identifiers and comments, of a type whose text form a
 * CAST from String reads the same way as the server reads the parameter
 * (test/query-parameters.test.ts compares both on the engine). Anything
 * else — an Identifier parameter, a missing value, text the scanner is not
 * sure of — returns undefined, and the caller binds as before.
 */

/** The ClickHouse text value of each parameter, as sent (`param_<name>`, TSV-escaped). */
export type QueryParameters = Readonly<Record<string, string>>;

const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;

/** A TSV-escaped value's text (what the server's readEscapedString reads); undefined for a sequence it would not accept. */
function unescapeTsv(value: string): string | undefined {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    switch (next) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '0': out += '\0'; break;
      case 'a': out += '\x07'; break;
      case 'v': out += '\v'; break;
      case '\\': case "'": case '"': case '`': case '/': case '=': out += next; break;
      default: return undefined;
    }
  }
  return out;
}

/** A SQL string literal holding exactly `text`. */
function stringLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The base type under LowCardinality/Nullable wrappers, and whether it is nullable. */
function unwrap(type: string): { base: string; nullable: boolean } {
  let base = type.trim();
  let nullable = false;
  for (;;) {
    const m = /^(Nullable|LowCardinality)\s*\(([\s\S]*)\)$/.exec(base);
    if (!m) return { base, nullable };
    if (m[1] === 'Nullable') nullable = true;
    base = m[2]!.trim();
  }
}

/** Scalar types whose CAST from the sent text equals the server's reading of the parameter. */
const SCALAR = /^(U?Int(8|16|32|64|128|256)|Float(32|64)|Bool|Boolean|Date|Date32|DateTime|DateTime64\s*\([^()]*\)|DateTime\s*\([^()]*\)|Decimal(32|64|128|256)?\s*\([^()]*\)|UUID)$/;
/** Arrays and tuples, sent in their quoted text form (a CAST from String cannot make a Map: those stay bound). */
const COMPOSITE = /^(Array|Tuple)\s*\(/;

/** The constant a parameter of `type` with the sent `value` stands for, or undefined when not exactly known. */
function constantFor(type: string, value: string): string | undefined {
  const { base, nullable } = unwrap(type);
  const typeLiteral = stringLiteral(type.trim());
  if (value === '\\N') return nullable ? `_CAST(NULL, ${typeLiteral})` : undefined;
  if (base === 'String') {
    const text = unescapeTsv(value);
    if (text === undefined) return undefined;
    // As the server: a String is a plain literal (it also fits where no expression may stand).
    return type.trim() === 'String' ? stringLiteral(text) : `_CAST(${stringLiteral(text)}, ${typeLiteral})`;
  }
  if (SCALAR.test(base)) {
    // Their text forms hold no escapes; one that does is not a value of the type anyway: let the server say so.
    if (value.includes('\\')) return undefined;
    return `_CAST(${stringLiteral(value)}, ${typeLiteral})`;
  }
  if (COMPOSITE.test(base) && !/Identifier|JSON|Object|Variant|Dynamic|IPv|Enum|Map/.test(base)) {
    // The quoted text form inside: its escapes are the quoted form's, which the CAST reads as the server does.
    return `_CAST(${stringLiteral(value)}, ${typeLiteral})`;
  }
  return undefined;
}

/** The end (index after) of a quoted run starting at `start` with quote `q`, backslash escapes and doubled quotes; -1 if unterminated. */
function quotedEnd(sql: string, start: number, q: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql[i];
    if (c === '\\') i++;
    else if (c === q) {
      if (sql[i + 1] === q) i++;
      else return i + 1;
    }
  }
  return -1;
}

/** The placeholder `{name:Type}` at `start`, or undefined when the brace opens something else. */
function placeholderAt(sql: string, start: number): { name: string; type: string; end: number } | undefined {
  let i = start + 1;
  while (sql[i] === ' ' || sql[i] === '\t' || sql[i] === '\n' || sql[i] === '\r') i++;
  if (!IDENTIFIER_START.test(sql[i] ?? '')) return undefined;
  const nameStart = i;
  while (IDENTIFIER_PART.test(sql[i] ?? '')) i++;
  const name = sql.slice(nameStart, i);
  while (sql[i] === ' ' || sql[i] === '\t') i++;
  if (sql[i] !== ':') return undefined;
  const typeStart = ++i;
  let depth = 0;
  for (; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(sql, i, c);
      if (end < 0) return undefined;
      i = end - 1;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '}' && depth === 0) return { name, type: sql.slice(typeStart, i).trim(), end: i + 1 };
    else if (c === '{') return undefined;
  }
  return undefined;
}

/**
 * The statement with every `{name:Type}` replaced by its constant, or
 * undefined when that cannot be done exactly (then bind as before). A
 * statement without placeholders comes back unchanged.
 */
export function substituteParameters(sql: string, params: QueryParameters): string | undefined {
  let out = '';
  let copied = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(sql, i, c);
      if (end < 0) return undefined;
      i = end - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      // ClickHouse nests block comments.
      let depth = 1;
      let j = i + 2;
      for (; j < sql.length && depth > 0; j++) {
        if (sql[j] === '/' && sql[j + 1] === '*') { depth++; j++; }
        else if (sql[j] === '*' && sql[j + 1] === '/') { depth--; j++; }
      }
      if (depth > 0) return undefined;
      i = j - 1;
    } else if (c === '#' || c === '$') {
      // '#' comments and $heredoc$ strings: rare in statements with parameters; not worth a second lexer.
      return undefined;
    } else if (c === '{') {
      const placeholder = placeholderAt(sql, i);
      if (!placeholder) continue;
      const value = params[placeholder.name];
      if (value === undefined) return undefined;
      const constant = constantFor(placeholder.type, value);
      if (constant === undefined) return undefined;
      out += sql.slice(copied, i) + constant;
      copied = placeholder.end;
      i = placeholder.end - 1;
    }
  }
  return out + sql.slice(copied);
}
