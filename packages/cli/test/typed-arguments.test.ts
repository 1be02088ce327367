import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argumentsAsTyped, shellQuote } from '../src/typed-arguments.js';

const PNPM = { npm_config_user_agent: 'pnpm/9.15.9 npm/? node/v20.20.2 linux x64' };

/** What pnpm does with `pnpm crm <args>`: appends shellQuote(args) to the script and runs the line with sh. */
function throughPnpmScript(args: string[]): { argv: string[]; line: string } {
  const line = `bin/crm ${shellQuote(args)}`;
  // sh parses the line as pnpm's does; printf hands back each argument it ends up with.
  const out = execFileSync('sh', ['-c', `set -- ${shellQuote(args)}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return { argv: out.split('\0').slice(0, -1), line };
}

describe('argumentsAsTyped', () => {
  it('restores what sh made of pnpm 9’s quoting: every ! in a quoted query, every backslash in a spaced one', () => {
    const typed = ["SELECT 'a' != 'b'", 'SELECT 1 AS "x\\y"', "it's \\! and \\\\!", '--format', 'TSV', "multi\nline != 'x'", 'a`b`', '$HOME'];
    const { argv, line } = throughPnpmScript(typed);
    expect(argv).not.toEqual(typed); // the mangling this undoes is real
    expect(argumentsAsTyped(argv, { ...PNPM, npm_lifecycle_script: line })).toEqual(typed);
  });

  it('gives back any arguments pnpm passed, whatever they hold', () => {
    const argument = fc.string({ unit: fc.constantFrom('a', ' ', "'", '"', '!', '\\', '`', '$', '\n', '=', '(', '#', 'é') });
    fc.assert(
      fc.property(fc.array(argument, { minLength: 1, maxLength: 4 }), (typed) => {
        const { argv, line } = throughPnpmScript(typed);
        expect(argumentsAsTyped(argv, { ...PNPM, npm_lifecycle_script: line })).toEqual(typed);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves arguments alone when pnpm did not run this line with them (another runner, an inherited script line)', () => {
    const argv = ["SELECT 'a' \\!= 'b'"];
    expect(argumentsAsTyped(argv, {})).toEqual(argv);
    expect(argumentsAsTyped(argv, { ...PNPM, npm_lifecycle_script: 'bin/crm sql "SELECT 1" && echo done' })).toEqual(argv);
    expect(argumentsAsTyped(argv, { npm_lifecycle_script: `bin/crm ${shellQuote(["SELECT 'a' != 'b'"])}` })).toEqual(argv);
  });
});
