import { randomBytes } from 'node:crypto';
import { columnList, OUTBOX_COMMITS, SCORING_WRITE_LEASE, type ClickHouseClient } from '@crm/clickhouse';
import { CrmError, sleep, type Logger } from '@crm/runtime';
import { discardUncommitted } from './outbox.js';

/**
 * The one writer of profiles, history and the outbox, across processes and
 * machines (docs/SCORING.md). Each write runs inside `exclusive`: it holds the
 * write lease (a fencing epoch in ClickHouse), gets a `changed_at` greater than
 * every committed one, and is committed by a commit mark carrying its epoch
 * only while the lease is still its own. `fence()` throws WRITE_LEASE_LOST once
 * the lease may have passed on; call it between statements.
 */
export interface WriteLock {
  exclusive<T>(write: (changedAt: Date, fence: () => void) => Promise<T>): Promise<T>;
  /** Releases the lease if held; later writes take it again. */
  close(): Promise<void>;
}

export interface WriteLeaseOptions {
  /** How long a claim or renewal holds without renewal; a crashed holder blocks others this long. */
  ttlMs: number;
  /** Held this long, the lease is released between writes even if more are queued, so other writers get a turn. */
  maxHoldMs: number;
  /** How often a waiting writer looks again. */
  pollMs?: number;
  logger?: Logger;
  /** Test-only fault injection: wait this long after the outbox rows are written, before committing. */
  delayBeforeCommitMs?: number;
  /**
   * Kept this long after the last queued write before it is released: a steady stream of
   * incremental updates claims it once, not once per update (within maxHoldMs). 0: at once.
   */
  lingerMs?: number;
  /** Told as soon as a commit mark is written (the publisher is woken by it: commit-notices.ts). */
  onCommit?: (changedAt: Date) => void;
}

interface Held {
  epoch: number;
  /** Local Date.now() after which the lease may no longer be ours (expiry minus a safety margin). */
  deadline: number;
  acquiredAt: number;
  /** Server time = Date.now() + offset. */
  offset: number;
  lastChangedAt: number;
  /** Why the lease is known to be no longer ours (a renewal found another claim or its own expiry); set once. */
  lost?: string;
}

const ms = (value: string | number | null | undefined) => Number(value ?? 0);

/** What a lease row and a commit mark are written with (`at` and `committed_at`: the server's now, by default). */
const LEASE_ROW = `${SCORING_WRITE_LEASE.name} (${columnList(SCORING_WRITE_LEASE, ['epoch', 'kind', 'holder', 'expires_at'])})`;
const COMMIT_MARK = `${OUTBOX_COMMITS.name} (${columnList(OUTBOX_COMMITS, ['changed_at', 'epoch'])})`;

export function createWriteLease(clickhouse: ClickHouseClient, options: WriteLeaseOptions): WriteLock {
  const holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const pollMs = options.pollMs ?? 50;
  // The margin covers one statement's flight time: a write stops before the server could think the lease expired.
  const margin = Math.max(1000, options.ttlMs / 5);
  let held: Held | undefined;
  let renewing: Promise<void> = Promise.resolve();
  let renewTimer: NodeJS.Timeout | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let queued = 0;
  let lingering: NodeJS.Timeout | undefined;
  const stopLingering = () => {
    clearTimeout(lingering);
    lingering = undefined;
  };

  const select = async <T>(query: string, query_params: Record<string, unknown> = {}) =>
    (await clickhouse.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

  async function acquire(): Promise<Held> {
    let waitingSince: number | undefined;
    for (;;) {
      const [latest] = await select<{ epoch: string; holder: string; expires_ms: string; released: number; now_ms: string }>(
        `SELECT epoch, anyIf(holder, kind = 'claim') AS holder, toUnixTimestamp64Milli(max(expires_at)) AS expires_ms,
                countIf(kind = 'release') > 0 AS released, toUnixTimestamp64Milli(now64(3)) AS now_ms
         FROM scoring_write_lease WHERE epoch = (SELECT max(epoch) FROM scoring_write_lease) GROUP BY epoch`,
      );
      const busy = latest !== undefined && !Number(latest.released) && ms(latest.expires_ms) > ms(latest.now_ms);
      if (busy) {
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince > options.ttlMs) {
          options.logger?.warn({ epoch: Number(latest.epoch) }, 'still waiting for the scoring write lease');
          waitingSince = Date.now();
        }
        await sleep(pollMs + Math.random() * pollMs);
        continue;
      }
      const epoch = ms(latest?.epoch) + 1;
      const sentAt = Date.now();
      await clickhouse.command({
        query: `INSERT INTO ${LEASE_ROW}
                SELECT {epoch:UInt64}, 'claim', {holder:String}, now64(3) + toIntervalMillisecond({ttl:UInt32})`,
        query_params: { epoch, holder, ttl: options.ttlMs },
        // Concurrent claims of one epoch carry one token: ClickHouse keeps exactly one of them.
        clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: `claim-${epoch}` },
      });
      const [claim] = await select<{ holder: string; expires_ms: string; now_ms: string; committed_ms: string }>(
        `SELECT anyIf(holder, kind = 'claim') AS holder, toUnixTimestamp64Milli(maxIf(expires_at, kind = 'claim')) AS expires_ms,
                toUnixTimestamp64Milli(now64(3)) AS now_ms,
                (SELECT toUnixTimestamp64Milli(max(changed_at)) FROM outbox_commits) AS committed_ms
         FROM scoring_write_lease WHERE epoch = {epoch:UInt64}`,
        { epoch },
      );
      if (claim?.holder !== holder) continue;
      const offset = ms(claim.now_ms) - Math.round((sentAt + Date.now()) / 2);
      return {
        epoch,
        deadline: ms(claim.expires_ms) - offset - margin,
        acquiredAt: Date.now(),
        offset,
        lastChangedAt: ms(claim.committed_ms),
      };
    }
  }

  /**
   * Extends the lease, only while it is still ours and unexpired on the server
   * (a renewal must not revive a lease another writer may already have seen
   * expired), then reads back where it stands: a renewal that finds a newer
   * claim, or its own lease expired, marks it lost, so the write in progress
   * stops at its next fence instead of writing on until the commit check.
   */
  async function renew(lease: Held): Promise<void> {
    if (lease.lost) return;
    const sentAt = Date.now();
    await clickhouse.command({
      query: `INSERT INTO ${LEASE_ROW}
              SELECT {epoch:UInt64}, 'renew', {holder:String}, now64(3) + toIntervalMillisecond({ttl:UInt32})
              WHERE (SELECT max(epoch) FROM scoring_write_lease) = {epoch:UInt64}
                AND (SELECT max(expires_at) FROM scoring_write_lease WHERE epoch = {epoch:UInt64}) > now64(3)`,
      query_params: { epoch: lease.epoch, holder, ttl: options.ttlMs },
      clickhouse_settings: { wait_end_of_query: 1 },
    });
    const [state] = await select<{ newest: string; expires_ms: string; now_ms: string }>(
      `SELECT max(epoch) AS newest, toUnixTimestamp64Milli(maxIf(expires_at, epoch = {epoch:UInt64})) AS expires_ms,
              toUnixTimestamp64Milli(now64(3)) AS now_ms
       FROM scoring_write_lease`,
      { epoch: lease.epoch },
    );
    if (ms(state?.newest) !== lease.epoch) {
      lease.lost = `a renewal found epoch ${ms(state?.newest)} claimed`;
    } else if (ms(state?.expires_ms) <= ms(state?.now_ms)) {
      lease.lost = 'a renewal found it expired';
    } else {
      // The server's expiry in local time, and never later than the renewal's send time allows.
      lease.deadline = Math.max(lease.deadline, Math.min(ms(state?.expires_ms) - lease.offset, sentAt + options.ttlMs) - margin);
      return;
    }
    options.logger?.warn({ epoch: lease.epoch, why: lease.lost }, 'scoring write lease lost');
    if (held === lease) clearInterval(renewTimer);
  }

  async function release(): Promise<void> {
    clearInterval(renewTimer);
    await renewing;
    const lease = held;
    held = undefined;
    if (!lease) return;
    await clickhouse
      .command({
        query: `INSERT INTO ${LEASE_ROW} SELECT {epoch:UInt64}, 'release', {holder:String}, now64(3)`,
        query_params: { epoch: lease.epoch, holder },
      })
      // Not released is expired after the TTL: others wait a little longer, nothing breaks.
      .catch((error: unknown) => options.logger?.warn({ err: error }, 'could not release the scoring write lease'));
  }

  async function commit(lease: Held, changedAt: number): Promise<void> {
    const params = { changed_at: (changedAt / 1000).toFixed(3), epoch: lease.epoch };
    // Fenced on the server too: a mark is written only while its epoch is the newest claim.
    await clickhouse.command({
      query: `INSERT INTO ${COMMIT_MARK}
              SELECT {changed_at:DateTime64(3, 'UTC')}, {epoch:UInt64}
              WHERE (SELECT max(epoch) FROM scoring_write_lease) = {epoch:UInt64}`,
      query_params: params,
      clickhouse_settings: { wait_end_of_query: 1 },
    });
    // Before the check below: a notice for a mark that was fenced out finds nothing to publish.
    options.onCommit?.(new Date(changedAt));
    const [mark] = await select<{ n: string }>(
      "SELECT count() AS n FROM outbox_commits WHERE changed_at = {changed_at:DateTime64(3, 'UTC')} AND epoch = {epoch:UInt64}",
      params,
    );
    if (!ms(mark?.n)) throw lost(lease, 'another writer claimed the lease');
  }

  function fenceFor(lease: Held): () => void {
    return () => {
      if (lease.lost) throw lost(lease, lease.lost);
      if (held !== lease || Date.now() >= lease.deadline) throw lost(lease, 'the lease expired before the write finished');
    };
  }

  async function run<T>(write: (changedAt: Date, fence: () => void) => Promise<T>): Promise<T> {
    if (held && (held.lost || Date.now() >= held.deadline || Date.now() - held.acquiredAt >= options.maxHoldMs)) {
      await release();
      // A turn for writers polling in other processes before this one claims again.
      await sleep(3 * pollMs);
    }
    if (!held) {
      held = await acquire();
      const lease = held;
      renewTimer = setInterval(() => {
        renewing = renew(lease).catch((error: unknown) => options.logger?.warn({ err: error }, 'could not renew the scoring write lease'));
      }, Math.max(100, options.ttlMs / 3));
    }
    const lease = held;
    const fence = fenceFor(lease);
    // Server time, strictly above every committed change: the publisher and change detection order by it.
    const changedAt = Math.max(Date.now() + lease.offset, lease.lastChangedAt + 1);
    lease.lastChangedAt = changedAt;
    try {
      const result = await write(new Date(changedAt), fence);
      if (options.delayBeforeCommitMs) await sleep(options.delayBeforeCommitMs);
      fence();
      await commit(lease, changedAt);
      return result;
    } catch (error) {
      await discardUncommitted(clickhouse, changedAt, options.logger);
      if (error instanceof CrmError && error.code === 'WRITE_LEASE_LOST') await release();
      throw error;
    }
  }

  return {
    exclusive<T>(write: (changedAt: Date, fence: () => void) => Promise<T>): Promise<T> {
      queued++;
      stopLingering();
      const result = tail.then(() => run(write)).finally(async () => {
        queued--;
        if (queued > 0) return;
        // Nobody in this process waits: let other processes have the lease (after a short linger).
        if (!options.lingerMs) return release();
        stopLingering();
        lingering = setTimeout(() => {
          lingering = undefined;
          // A write queued meanwhile releases it itself when done (or keeps it lingering).
          if (queued === 0) tail = tail.then(release).catch(() => undefined);
        }, options.lingerMs);
        lingering.unref();
      });
      // A failed write must not block the ones queued after it.
      tail = result.catch(() => undefined);
      return result;
    },
    close: async () => {
      stopLingering();
      await tail;
      await release();
    },
  };
}

function lost(lease: Held, why: string): CrmError {
  return new CrmError('WRITE_LEASE_LOST', `scoring write lease epoch ${lease.epoch}: ${why}; the write was not committed`, { retriable: true });
}
