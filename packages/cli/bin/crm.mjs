#!/usr/bin/env node
// The `crm` command, which bin/crm (the launcher beside it) runs on the project's Node. Plain
// JavaScript so Node runs it as it is: no package-script shell re-quoting the arguments, no
// transpiler on every call.
// It checks the install, then runs the CLI from an esbuild bundle, rebuilt when a source changed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unsupportedNode } from '../../../scripts/node-support.mjs';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(cli, '../..');

// Checked before anything else is imported: after a pull that added a dependency, stale
// node_modules would otherwise end in ERR_MODULE_NOT_FOUND naming a package, and an older Node or
// addons built for another one in errors far from the cause, not the fix.
const unsupported = unsupportedNode(root);
if (unsupported) fail(unsupported);
const installed = join(root, 'node_modules/.pnpm/lock.yaml');
const lock = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
if (!existsSync(installed) || readFileSync(installed, 'utf8') !== lock) fail('the installed dependencies do not match pnpm-lock.yaml; run `bash scripts/bootstrap.sh` first');

const lockHash = createHash('sha256').update(lock).digest('hex');
const entry = freshBuild() ?? (await import('./build.mjs')).buildCli({ cli, root, lockHash });
await import(pathToFileURL(await entry).href);

/** The last build, if every file that went into it is unchanged (one stat per source: a millisecond or two). */
function freshBuild() {
  try {
    const manifest = JSON.parse(readFileSync(join(cli, 'dist/build.json'), 'utf8'));
    if (manifest.lockHash !== lockHash || !existsSync(manifest.entry)) return undefined;
    for (const [file, mtimeMs] of Object.entries(manifest.inputs)) if (statSync(file).mtimeMs !== mtimeMs) return undefined;
    return manifest.entry;
  } catch {
    return undefined;
  }
}

/** @param {string} message */
function fail(message) {
  process.stderr.write(`crm: ${message}\n`);
  process.exit(1);
}
