import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { CrmError, waitForDependency, type Logger } from '@crm/runtime';
import { classifyClickHouseError, createClickHouse } from './client.js';
import type { ClickHouseConfig } from './settings.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../migrations');

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

/** `0001_orders.sql` → version 1; statements are separated by a line ending in `;`. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        statements: splitStatements(text),
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      };
    });
}

export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** How many migrations are not yet recorded; undefined when the database or its schema_migrations table does not exist yet (or cannot be read). */
async function pendingMigrations(client: ClickHouseClient, database: string): Promise<number | undefined> {
  try {
    const result = await client.query({ query: `SELECT groupUniqArray(version) AS versions FROM ${database}.schema_migrations`, format: 'JSONEachRow' });
    const applied = new Set((await result.json<{ versions: number[] }>())[0]?.versions.map(Number) ?? []);
    return loadMigrations().filter((m) => !applied.has(m.version)).length;
  } catch {
    return undefined;
  }
}

/**
 * Applies pending migrations in order and records each in
 * `schema_migrations`. Every statement is idempotent (IF NOT EXISTS), so two
 * services migrating at once, or a crash half-way, leave a correct schema.
 * The client must not have a default database set: the database is created here.
 */
export async function migrate(client: ClickHouseClient, database: string, logger?: Logger): Promise<number[]> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new CrmError('CONFIG_INVALID', `bad database name ${database}`);
  const run = async (query: string, what: string) => {
    try {
      await client.command({ query, clickhouse_settings: { wait_end_of_query: 1 } });
    } catch (error) {
      // A ClickHouse that is not up yet is worth waiting for (migrateOnStart retries); bad SQL is not.
      const retriable = classifyClickHouseError(error, what).retriable;
      throw new CrmError('MIGRATION_FAILED', `${what}: ${(error as Error).message}`, { cause: error, retriable });
    }
  };
  // An up-to-date schema needs no DDL: a service's least-privilege user (docker-compose.yml) may
  // read schema_migrations but not create anything, and migrations are then the admin's job.
  if ((await pendingMigrations(client, database)) === 0) return [];
  await run(`CREATE DATABASE IF NOT EXISTS ${database}`, 'create database');
  await run(
    `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (
       version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
     ) ENGINE = ReplacingMergeTree ORDER BY version`,
    'create schema_migrations',
  );
  const done = await client.query({
    query: `SELECT version, any(checksum) AS checksum FROM ${database}.schema_migrations GROUP BY version`,
    format: 'JSONEachRow',
  });
  const applied = new Map((await done.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]));

  const newlyApplied: number[] = [];
  for (const migration of loadMigrations()) {
    const recorded = applied.get(migration.version);
    if (recorded !== undefined) {
      if (recorded !== migration.checksum) {
        logger?.warn({ migration: migration.name }, 'applied migration was edited since; add a new migration instead');
      }
      continue;
    }
    for (const statement of migration.statements) {
      // Migrations name tables unqualified; they live in the configured database.
      await run(statement.replaceAll('{database}', database), migration.name);
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
    logger?.info({ migration: migration.name }, 'migration applied');
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}

/**
 * What every service does at start: apply pending migrations, waiting for as
 * long as it takes for a ClickHouse that is down or still starting
 * (connection errors are retried with the dependency backoff; a broken
 * migration is not). `signal` ends the wait (the service is stopping).
 */
export async function migrateOnStart(config: ClickHouseConfig, logger: Logger, signal?: AbortSignal): Promise<void> {
  const admin = createClickHouse(config, { database: false });
  try {
    await waitForDependency(
      'ClickHouse (migrations)',
      () => migrate(admin, config.CLICKHOUSE_DATABASE, logger),
      { logger, classify: (e) => classifyClickHouseError(e, 'migrate'), ...(signal && { signal }) },
    );
  } finally {
    await admin.close();
  }
}
