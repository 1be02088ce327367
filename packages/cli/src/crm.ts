import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// Checked before anything else is imported: after a pull that added a dependency, stale
// node_modules would otherwise end in ERR_MODULE_NOT_FOUND naming a package, not the fix.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const installed = join(root, 'node_modules/.pnpm/lock.yaml');
if (!existsSync(installed) || readFileSync(installed, 'utf8') !== readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8')) {
  process.stderr.write('crm: the installed dependencies do not match pnpm-lock.yaml; run `bash scripts/bootstrap.sh` (or `pnpm install`) first\n');
  process.exit(1);
}
await import('./main.js');
