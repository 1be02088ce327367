/**
 * The arguments as the user typed them, also under `pnpm crm …`. pnpm (9.15.5 and later 9.x)
 * appends a script's arguments to its command line with shell-quote's quote() and runs that line
 * with sh, which does not read quote()'s output back as it was meant: in an argument holding a
 * `'`, every `!` arrives as `\!` (so `SELECT 'a' != 'b'` is a syntax error); in one holding a
 * space or `"` but no `'`, every backslash arrives doubled. Both are undone, but only when quoting
 * the restored arguments again gives exactly the end of the line pnpm ran (npm_lifecycle_script):
 * arguments from any other runner, or a pnpm that quotes differently, pass as they are.
 */
export function argumentsAsTyped(argv: readonly string[], env: Record<string, string | undefined>): string[] {
  const line = env.npm_lifecycle_script;
  if (line === undefined || argv.length === 0 || !env.npm_config_user_agent?.startsWith('pnpm/')) return [...argv];
  const restored = argv.map(unquoted);
  return line.endsWith(` ${shellQuote(restored)}`) ? restored : [...argv];
}

/** What quote() added that sh kept, by the branch quote() took for the original argument. */
function unquoted(arg: string): string {
  if (arg.includes("'")) return arg.replace(/\\!/g, '!');
  if (/["\s]/.test(arg)) return arg.replace(/\\\\/g, '\\');
  return arg;
}

/** shell-quote 1.8's quote(), the one pnpm 9 runs its script arguments through. */
export function shellQuote(args: readonly string[]): string {
  return args
    .map((s) => {
      if (s === '') return "''";
      if (/["\s]/.test(s) && !s.includes("'")) return `'${s.replace(/(['\\])/g, '\\$1')}'`;
      if (/["'\s]/.test(s)) return `"${s.replace(/(["\\$`!])/g, '\\$1')}"`;
      return s.replace(/([A-Za-z]:)?([#!"$&'()*,:;<=>?@[\\\]^`{|}])/g, '$1\\$2');
    })
    .join(' ');
}
