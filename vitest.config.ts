import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - `unit`: test/unit, in-process only: no build step (`npm run test:unit`);
 * - `integration`: test/integration (spawned CLIs and worker threads run dist/, so the build
 *   comes first), two files at a time (2-core machines);
 * - `serial`: tests that measure latency or kill processes (`*.serial.test.ts`, test/chaos but
 *   CHAOS_IN_PARALLEL),
 *   one file at a time after the others, so that other tests' CPU load does not distort what
 *   they measure.
 * Every project finds a Redis first (global-setup.ts); `integration` and `serial` build dist/
 * when a source file is newer than it (build-setup.ts).
 */
/**
 * Files under test/chaos that neither kill a process mid-work nor measure time (a private
 * Redis filled to maxmemory, one refusing to start, the soak's memory bound): they run two at a
 * time with the integration tests instead of alone.
 */
const CHAOS_IN_PARALLEL = [
  'test/chaos/exporter-drains-a-full-redis.test.ts',
  'test/chaos/startup-refuses-evicting-redis-unless-allowed.test.ts',
  'test/chaos/soak-short-stays-under-maxmemory-and-exports-each-id-once.test.ts',
];
const REDIS = 'test/helpers/global-setup.ts';
const BUILD = 'test/helpers/build-setup.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          globalSetup: [REDIS],
          include: ['test/unit/**/*.test.ts'],
          exclude: ['**/*.serial.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          globalSetup: [BUILD, REDIS],
          include: ['test/integration/**/*.test.ts', ...CHAOS_IN_PARALLEL],
          exclude: ['**/*.serial.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          globalSetup: [BUILD, REDIS],
          include: ['test/**/*.serial.test.ts', 'test/chaos/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...CHAOS_IN_PARALLEL],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
