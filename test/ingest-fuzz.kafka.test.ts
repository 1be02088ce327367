import { describe, expect, it } from 'vitest';
import { useTestInfrastructure } from './support/harness.js';
import { formatFuzzReport, runIngestFuzz, type FuzzReport } from './support/fuzz-run.js';

/**
 * The ingest fuzzer's short form (the long one, ≥ 100 000 messages: `pnpm test:faults`,
 * test/faults/ingest-fuzz.faults.test.ts). FUZZ_SEED reproduces a run.
 */
const infra = useTestInfrastructure();
const seed = Number(process.env.FUZZ_SEED ?? 20261201);

export function expectAccountedFor(report: FuzzReport): void {
  expect(report.fatal).toEqual([]);
  expect(report.readyStatus).toBe(200);
  expect({ missing: report.missing.slice(0, 10), doubled: report.doubled.slice(0, 10) }).toEqual({ missing: [], doubled: [] });
  expect(report.rows + report.deadLetters).toBe(report.produced);
  // Validation equals what storage accepts: ingest's decoder decides alone, ClickHouse refuses nothing.
  expect(report.rows).toBe(report.expectedAccepted);
  expect(report.byReason.storage_rejected ?? 0).toBe(0);
  expect(report.rows).toBeGreaterThan(0);
  expect(report.deadLetters).toBeGreaterThan(0);
}

describe('ingest fuzzer (short form)', () => {
  it('mutated events in both encodings: ingest stays alive and every message is one row or one dead letter', { timeout: 120_000 }, async () => {
    const report = await runIngestFuzz({ kafka: infra.kafka, env: infra.env(), seed, count: Number(process.env.FUZZ_MESSAGES ?? 1000) });
    console.log(formatFuzzReport(report));
    expectAccountedFor(report);
  });
});
