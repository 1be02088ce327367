import { defineConfig } from 'vitest/config';
import { unsupportedNode } from './scripts/node-support.mjs';

// `pnpm test` and `pnpm vitest` run on the pinned LTS (scripts/with-node); anything else that
// starts vitest on an older Node stops here with the fix, not in a worker failing to load an addon.
const unsupported = unsupportedNode(import.meta.dirname);
if (unsupported) throw new Error(unsupported);

// The full fault-injection suite takes minutes and runs its own broker and ClickHouse host, so it
// joins the projects only when asked for (`pnpm test:faults`, i.e. `vitest run --project faults`);
// `pnpm test` runs its short form (test/faults-short.kafka.test.ts) with the kafka project.
const faultsRequested = process.argv.some((arg, i, all) => arg === '--project=faults' || (arg === '--project' && all[i + 1] === 'faults'));

// Tests that need a Kafka broker are named `*.kafka.test.ts`; their project's
// global setup starts one broker per run (or reuses KAFKA_BROKERS).
// chDB binds one data directory per process, so test files run in forked
// processes, each with its own ClickHouse host and data directory.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // CI also writes a JSON report, from which .ci/run prints the closing 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.local/test-results.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          exclude: ['**/*.kafka.test.ts', '**/node_modules/**', '.local/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: ['**/*.kafka.test.ts'],
          exclude: ['**/node_modules/**', '.local/**'],
          globalSetup: ['test/kafka-global-setup.ts'],
        },
      },
      ...(faultsRequested
        ? [
            {
              extends: true as const,
              test: {
                name: 'faults',
                include: ['test/faults/**/*.faults.test.ts'],
                exclude: ['**/node_modules/**', '.local/**'],
                testTimeout: 40 * 60_000,
              },
            },
          ]
        : []),
    ],
  },
});
