import type { ClickHouseClient } from '@crm/clickhouse';
import type { Logger } from '@crm/runtime';
import { realtimeRiskSql, riskParameters } from './outbox.js';
import type { ScoringParameters } from './parameters.js';
import { dateParam, runContext, type RunContext } from './run-context.js';
import type { UpdateBasis } from './runs.js';
import { scopeTo } from './scope.js';
import type { WriteLock } from './write-lock.js';

/**
 * The real-time at-risk path: a complaint or a detractor's answer for a
 * customer worth keeping is an alert at once, not after the customer's
 * re-score. One statement under the write lease decides it from the stored
 * profile and the support signals as they are now (realtimeRiskSql); the
 * re-score that follows writes the profile and finds the entry recorded.
 * Before the first full run with a fit (no basis) there are no stored
 * profiles to judge by: nothing is decided here.
 */
export async function realtimeRisk(
  clickhouse: ClickHouseClient,
  customers: readonly string[],
  asOf: Date,
  parameters: ScoringParameters,
  lock: WriteLock,
  basisOf: (ctx: RunContext) => Promise<UpdateBasis | undefined>,
  logger?: Logger,
): Promise<{ ms: number; basisAsOf?: Date }> {
  const started = Date.now();
  const ctx = runContext(clickhouse, logger);
  try {
    const basis = await basisOf(ctx);
    if (!basis || customers.length === 0) return { ms: Date.now() - started };
    const scope = await scopeTo(ctx, customers, { clicks: false });
    ctx.phase('real-time risk: scope');
    await lock.exclusive(async (changedAt, fence) => {
      ctx.phase('real-time risk: write lease');
      fence();
      await ctx.command(realtimeRiskSql(scope), {
        as_of: dateParam(asOf),
        basis_as_of: dateParam(basis.asOf),
        changed_at: dateParam(changedAt),
        nps_window_days: parameters.npsWindowDays,
        ...riskParameters(parameters.risk),
      });
      ctx.phase('real-time risk: decide and record');
    });
    ctx.phase('real-time risk: commit');
    return { ms: Date.now() - started, basisAsOf: basis.asOf };
  } finally {
    void ctx.dropAll();
  }
}
