// Whether this process runs on a Node.js the project supports, and the fix if not. The launcher
// (packages/cli/bin/crm.mjs) and the test configuration ask first: an older Node, or native addons
// built for another one (node_modules installed before the switch), fail far from the cause.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIX = 'run `bash scripts/bootstrap.sh` first (it installs the pinned Node.js LTS into .local/node when the machine has another)';

/**
 * @param {string} root the repository
 * @returns {string | undefined} what is wrong and the fix, or nothing when all is well
 */
export function unsupportedNode(root) {
  const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
  if (Number(process.versions.node.split('.')[0]) < parseInt(engines.replace(/^\D+/, ''), 10)) {
    return `Node.js ${process.version} is older than the project supports (${engines}); ${FIX}`;
  }
  // Written by scripts/bootstrap.sh after it installed or rebuilt the addons.
  const abi = join(root, 'node_modules/.node-abi');
  if (existsSync(abi) && readFileSync(abi, 'utf8').trim() !== process.versions.modules) {
    return `node_modules was installed for another Node.js than ${process.version}; ${FIX}`;
  }
  return undefined;
}
