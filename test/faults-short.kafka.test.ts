import { afterAll, describe, it } from 'vitest';
import { expectConverged } from './faults/expectations.js';
import { FaultScenario, formatReport } from './faults/scenario.js';

/**
 * The short form of the fault-injection suite (the full one: `pnpm test:faults`):
 * the same scenario, one fault of each kind over a small load, after starting the services
 * once with the broker down and once with ClickHouse down. It runs its own
 * broker and ClickHouse host (it stops and restarts both), not the run's shared broker.
 * Seed 8 puts the faults that take longest to recover from (broker restart, scoring
 * kill: scoring's consumer group waits out the dead member's 30 s session) early in
 * the produce, so their recovery overlaps it; the full form has them anywhere.
 */
const scenario = new FaultScenario({
  seed: 8,
  events: 20_000,
  produceSeconds: 30,
  faults: 7,
  settleTimeoutMs: 100_000,
  ...(process.env.FAULTS_LOG_DIR && { logDir: process.env.FAULTS_LOG_DIR }),
});
afterAll(() => scenario.dispose(), 120_000);

describe('the pipeline under faults (short form)', () => {
  it('one fault of each kind: nothing lost or doubled, every malformed message dead-lettered, profiles as a clean run, every change published', { timeout: 600_000 }, async () => {
    const report = await scenario.run();
    console.log(formatReport(report));
    expectConverged(report);
  });
});
