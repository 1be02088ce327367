import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@crm/runtime';
import { DASHBOARD_AGGREGATES, SCORING_TABLES, type ClickHouseClient } from '../src/index.js';
import { migratedDatabase, startTestClickHouse, type TestClickHouse } from '../../../test/support/clickhouse.js';

/** The users docker-compose.yml gives the services, and the GRANTs of each, read from the file ClickHouse reads. */
function serviceUsers(): Map<string, string[]> {
  const xml = readFileSync(join(REPO_ROOT, 'infra/clickhouse/users.d/crm-services.xml'), 'utf8');
  const users = new Map<string, string[]>();
  for (const [, name, body] of xml.matchAll(/<(crm_\w+)>([\s\S]*?)<\/\1>/g)) users.set(name!, [...body!.matchAll(/<query>([^<]+)<\/query>/g)].map((m) => m[1]!));
  return users;
}

/** `GRANT A, B ON crm.t` → the privileges and the object. */
const parse = (grant: string) => {
  const [, privileges, object] = /^GRANT (.+) ON (\S+)$/.exec(grant)!;
  return { privileges: privileges!.split(',').map((p) => p.trim()), object: object! };
};
const objectsWith = (grants: string[], privilege: string) => grants.map(parse).filter((g) => g.privileges.includes(privilege)).map((g) => g.object).sort();

let host: TestClickHouse;
let clickhouse: ClickHouseClient;
beforeAll(async () => {
  host = await startTestClickHouse();
  ({ clickhouse } = await migratedDatabase(host, 'crm'));
}, 180_000);
afterAll(async () => {
  await clickhouse?.close();
  await host?.stop();
});

describe('the services\' ClickHouse users (docker-compose.yml)', () => {
  const users = serviceUsers();

  it('are one per service, each GRANT valid ClickHouse SQL naming a table the migrations create', async () => {
    expect([...users.keys()].sort()).toEqual(['crm_ingest', 'crm_publisher', 'crm_scoring', 'crm_web']);
    const result = await clickhouse.query({ query: "SELECT name FROM system.tables WHERE database = 'crm'", format: 'JSONEachRow' });
    const tables = new Set((await result.json<{ name: string }>()).map((r) => `crm.${r.name}`));
    for (const [user, grants] of users) {
      for (const grant of grants) {
        // The host has no access management of its own; its parser still checks the statement.
        const formatted = await clickhouse.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: `${grant} TO ${user}` }, format: 'JSONEachRow' });
        expect((await formatted.json<{ f: string }>())[0]!.f).toBe(`${grant} TO ${user}`);
        const { object } = parse(grant);
        if (!object.endsWith('*')) expect(tables.has(object), `${user}: ${grant}`).toBe(true);
      }
    }
  });

  it('write only what each owns: ingest the raw streams, scoring its tables and scratch tables, the publisher its marks, web nothing', () => {
    const grants = (user: string) => users.get(user)!;
    expect(objectsWith(grants('crm_ingest'), 'INSERT')).toEqual(['crm.clicks', 'crm.identity_links', 'crm.orders', 'crm.surveys', 'crm.tickets']);
    expect(objectsWith(grants('crm_scoring'), 'INSERT')).toEqual([...SCORING_TABLES.map((t) => `crm.${t.name}`), 'crm.scoring_*'].sort());
    expect(objectsWith(grants('crm_publisher'), 'INSERT')).toEqual(['crm.publisher_marks', 'crm.publisher_progress', 'crm.publisher_skipped']);
    expect(grants('crm_web').map(parse).every((g) => g.privileges.join() === 'SELECT')).toBe(true);
    // DDL and deletes: scoring's own scratch tables, outbox trim and dashboard snapshots only; migrations and erasure are the admin's.
    const ddl = [...users].flatMap(([user, gs]) => gs.map(parse).filter((g) => g.privileges.some((p) => /CREATE|DROP|ALTER|TRUNCATE|ALL/.test(p))).map((g) => `${user} ${g.privileges.join(',')} ${g.object}`));
    expect(ddl.sort()).toEqual([
      ...DASHBOARD_AGGREGATES.map(({ table }) => `crm_scoring INSERT,ALTER DELETE crm.${table.name}`),
      'crm_scoring ALTER DELETE crm.segment_changes',
      'crm_scoring CREATE TABLE,DROP TABLE,INSERT crm.scoring_*',
    ].sort());
  });
});
