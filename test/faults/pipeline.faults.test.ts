import { afterAll, describe, it } from 'vitest';
import { expectConverged } from './expectations.js';
import { FaultScenario, formatReport } from './scenario.js';

/**
 * The full fault-injection suite (`pnpm test:faults`): a few minutes of steady
 * load with every kind of fault several times. FAULTS_SEED replays a run.
 */
const scenario = new FaultScenario({
  seed: Number(process.env.FAULTS_SEED ?? 6_2026),
  events: Number(process.env.FAULTS_EVENTS ?? 200_000),
  produceSeconds: Number(process.env.FAULTS_PRODUCE_SECONDS ?? 240),
  faults: Number(process.env.FAULTS_COUNT ?? 21),
  settleTimeoutMs: 300_000,
  ...(process.env.FAULTS_LOG_DIR && { logDir: process.env.FAULTS_LOG_DIR }),
});
afterAll(() => scenario.dispose(), 120_000);

describe('the pipeline under faults (full form)', () => {
  it('loses nothing, counts nothing twice, dead-letters every malformed message, scores as a clean run does, publishes every change', { timeout: 40 * 60_000 }, async () => {
    const report = await scenario.run();
    console.log(formatReport(report));
    expectConverged(report);
  });
});
