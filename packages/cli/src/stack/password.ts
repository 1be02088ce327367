import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crmHome, type Env } from '@crm/runtime';

/**
 * The embedded ClickHouse host's password when CLICKHOUSE_PASSWORD is not set:
 * `crm up` generates one into CRM_HOME, readable by its owner only, and the
 * CLI, the services it starts and the host all use it. An explicit
 * CLICKHOUSE_PASSWORD (even an empty one) always wins.
 */

export function passwordFile(env: Env = process.env): string {
  return join(crmHome(env), 'clickhouse-password');
}

/** The generated password, if there is one. */
export function readGeneratedPassword(env: Env = process.env): string | undefined {
  const file = passwordFile(env);
  if (!existsSync(file)) return undefined;
  // Someone loosened the mode: tighten it again rather than keep a readable secret.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** Generates the password unless CLICKHOUSE_PASSWORD is set or one exists; returns the file that holds it, if any. */
export function ensureGeneratedPassword(env: Env = process.env): string | undefined {
  if (env.CLICKHOUSE_PASSWORD !== undefined) return undefined;
  const file = passwordFile(env);
  if (readGeneratedPassword(env) === undefined) {
    mkdirSync(dirname(file), { recursive: true });
    // 'wx': two `crm up` at once must not overwrite each other's password.
    try {
      writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return file;
}
