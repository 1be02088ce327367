import { defineConfig } from 'vitest/config';

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
          exclude: ['**/*.kafka.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: ['**/*.kafka.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/kafka-global-setup.ts'],
        },
      },
    ],
  },
});
