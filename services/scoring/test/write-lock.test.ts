import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@crm/clickhouse';
import { CrmError, sleep } from '@crm/runtime';
import { createWriteLease } from '../src/write-lock.js';
import { useScoringEngine } from './engine.js';

const engine = useScoringEngine('crm-write-lock-');

const rows = async <R>(clickhouse: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}) =>
  (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<R>();

describe('the write lease', () => {
  it('a renewal that finds the lease claimed by another writer stops the write (WRITE_LEASE_LOST, retriable) before its deadline', { timeout: 60_000 }, async () => {
    const clickhouse = await engine.database('lease_lost');
    // TTL 6 s: renewals every 2 s; without renewals the local deadline is 4.8 s after the claim.
    const lock = createWriteLease(clickhouse, { ttlMs: 6000, maxHoldMs: 60_000, pollMs: 20 });
    let stoppedAfterMs: number | undefined;
    let writtenAt: Date | undefined;
    const write = lock.exclusive(async (changedAt, fence) => {
      writtenAt = changedAt;
      const started = Date.now();
      // Another writer takes the next epoch (as one would after judging this lease expired), holding it 3 s.
      await clickhouse.command({
        query: `INSERT INTO scoring_write_lease (epoch, kind, holder, expires_at)
                SELECT max(epoch) + 1, 'claim', 'intruder', now64(3) + toIntervalMillisecond(3000) FROM scoring_write_lease`,
      });
      // Before the deadline the old lease would have had even without a renewal, the writer must know.
      while (Date.now() - started < 4000) {
        try {
          fence();
        } catch (error) {
          stoppedAfterMs = Date.now() - started;
          throw error;
        }
        await sleep(50);
      }
      return 'wrote on';
    });
    const error = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stoppedAfterMs, 'a fence stopped the write').toBeDefined();
    expect(stoppedAfterMs).toBeLessThan(4000);
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).code).toBe('WRITE_LEASE_LOST');
    expect((error as CrmError).retriable).toBe(true);
    expect((error as Error).message).toMatch(/renewal found epoch \d+ claimed/);
    const marks = await rows<{ n: string }>(clickhouse, "SELECT count() AS n FROM outbox_commits WHERE changed_at = {t:DateTime64(3, 'UTC')}", {
      t: (writtenAt!.getTime() / 1000).toFixed(3),
    });
    expect(Number(marks[0]!.n)).toBe(0);

    // Retried, the write waits for the other writer's lease to expire and commits under a newer epoch.
    await expect(lock.exclusive(async () => 'retried')).resolves.toBe('retried');
    const [newest] = await rows<{ epoch: string; holder: string }>(
      clickhouse,
      "SELECT epoch, anyIf(holder, kind = 'claim') AS holder FROM scoring_write_lease GROUP BY epoch ORDER BY epoch DESC LIMIT 1",
    );
    const [mark] = await rows<{ epoch: string }>(clickhouse, 'SELECT max(epoch) AS epoch FROM outbox_commits');
    expect(newest!.holder).not.toBe('intruder');
    expect(mark!.epoch).toBe(newest!.epoch);
    await lock.close();
    await clickhouse.close();
  });

  it('with a linger, writes in quick succession claim the lease once, and it is released when the writes stop', { timeout: 60_000 }, async () => {
    const clickhouse = await engine.database('lease_linger');
    const lock = createWriteLease(clickhouse, { ttlMs: 10_000, maxHoldMs: 60_000, lingerMs: 400, pollMs: 20 });
    const kinds = async () => (await rows<{ kind: string }>(clickhouse, 'SELECT kind FROM scoring_write_lease ORDER BY at, kind')).map((r) => r.kind);
    for (let i = 0; i < 3; i++) {
      await lock.exclusive(async () => undefined);
      await sleep(100);
    }
    // One claim for the three writes, still held between them.
    expect((await kinds()).filter((k) => k !== 'renew')).toEqual(['claim']);
    await sleep(800);
    expect((await kinds()).filter((k) => k !== 'renew')).toEqual(['claim', 'release']);
    // Another writer gets it at once, and the next write here claims a newer epoch.
    const other = createWriteLease(clickhouse, { ttlMs: 10_000, maxHoldMs: 60_000, pollMs: 20 });
    const started = Date.now();
    await other.exclusive(async () => undefined);
    expect(Date.now() - started).toBeLessThan(2_000);
    await lock.exclusive(async () => undefined);
    await lock.close();
    await other.close();
    expect((await rows<{ n: number }>(clickhouse, "SELECT toUInt32(count()) AS n FROM scoring_write_lease WHERE kind = 'claim'"))[0]!.n).toBe(3);
    await clickhouse.close();
  });
});
