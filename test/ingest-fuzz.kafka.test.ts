import { describe, it } from 'vitest';
import { useTestInfrastructure } from './support/harness.js';
import { expectAccountedFor, formatFuzzReport, runIngestFuzz } from './support/fuzz-run.js';

/**
 * The ingest fuzzer's short form (the long one, ≥ 100 000 messages: `pnpm test:faults`,
 * test/faults/ingest-fuzz.faults.test.ts). FUZZ_SEED reproduces a run.
 */
const infra = useTestInfrastructure();
const seed = Number(process.env.FUZZ_SEED ?? 20261201);

describe('ingest fuzzer (short form)', () => {
  it('mutated events in both encodings: ingest stays alive and every message is one row or one dead letter', { timeout: 120_000 }, async () => {
    const report = await runIngestFuzz({ kafka: infra.kafka, env: infra.env(), seed, count: Number(process.env.FUZZ_MESSAGES ?? 1000) });
    console.log(formatFuzzReport(report));
    expectAccountedFor(report);
  });
});
