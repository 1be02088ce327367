import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file so commands work from any directory. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** All local state (broker data, ClickHouse data, logs, pid files) lives under CRM_HOME. */
export function crmHome(env: Record<string, string | undefined> = process.env): string {
  return resolve(REPO_ROOT, env.CRM_HOME && env.CRM_HOME !== '' ? env.CRM_HOME : '.local');
}
