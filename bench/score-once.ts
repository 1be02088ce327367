// One scoring run in its own process, so the benchmark can report this process's peak memory.
import { createClickHouse } from '@crm/clickhouse';
import { createLogger } from '@crm/runtime';
import { createWriteLease, DEFAULT_SCORING_PARAMETERS, loadScoringConfig, runScoring, writeLeaseOptions } from '@crm/scoring';

const clickhouse = createClickHouse({
  CLICKHOUSE_URL: process.env.CLICKHOUSE_URL!,
  CLICKHOUSE_USER: 'default',
  CLICKHOUSE_PASSWORD: process.env.CLICKHOUSE_PASSWORD ?? '',
  CLICKHOUSE_DATABASE: 'crm',
});
const logger = createLogger('scoring');
// The service's lease settings (SCORING_LEASE_TTL_MS …) from the environment, as every entry point reads them.
const lease = createWriteLease(clickhouse, writeLeaseOptions(loadScoringConfig(process.env), logger));
const run = await runScoring(clickhouse, new Date(process.env.AS_OF!), DEFAULT_SCORING_PARAMETERS, logger, lease).finally(() => lease.close());
await clickhouse.close();
process.stdout.write(
  `${JSON.stringify({
    ms: run.ms,
    customers: run.customers,
    buyers: run.buyers,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    fits: [run.fits.bgnbd, run.fits.mbgnbd, run.fits.gammaGamma].filter(Boolean).map((f) => ({ model: f!.model, params: f!.params, ll: f!.logLikelihood, groups: f!.groups })),
    failures: run.fits.failures,
  })}\n`,
);
