import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements } from '../src/migrate.js';

describe('migrations', () => {
  it('are numbered without gaps and every statement is idempotent', () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    for (const statement of migrations.flatMap((m) => m.statements)) {
      // A repeated outbox commit mark equals the first, and materialising an index again rebuilds
      // the same index, so those statements are idempotent too.
      expect(statement).toMatch(
        /^(CREATE (TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS|CREATE OR REPLACE VIEW|ALTER TABLE \S+ (ADD|MODIFY) COLUMN IF|ALTER TABLE \S+ ADD INDEX IF NOT EXISTS|ALTER TABLE \S+ MATERIALIZE INDEX|INSERT INTO \{database\}\.outbox_commits )/,
      );
    }
  });

  it('split on statement ends, ignoring comment lines', () => {
    expect(splitStatements('-- a; comment\nCREATE TABLE a (x UInt8);\n\nCREATE VIEW b AS SELECT 1;\n')).toEqual([
      'CREATE TABLE a (x UInt8)',
      'CREATE VIEW b AS SELECT 1',
    ]);
  });
});
