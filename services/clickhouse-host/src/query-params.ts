/**
 * A ClickHouse server reads a String query parameter in the "escaped" text
 * format (clickhouse-js sends `it\'s\n` for "it's" and a newline), while chDB's
 * binder takes the text as it is. So parameters whose placeholder is a String
 * type are unescaped here; every other type's text goes through unchanged.
 */
export function engineParams(sql: string, params: Record<string, string>): Record<string, string> {
  const stringParams = new Set<string>();
  for (const match of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*((?:Nullable\(|LowCardinality\()*)(String|FixedString\(\d+\))/g)) {
    stringParams.add(match[1]!);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) out[name] = stringParams.has(name) ? unescapeText(value) : value;
  return out;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', a: '\x07', v: '\v', N: '\\N' };

export function unescapeText(text: string): string {
  return text.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c);
}
