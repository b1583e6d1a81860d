import { defineConfig } from 'vitest/config';

/**
 * Two projects, run together, two test files at a time (2-core machines):
 * - `unit`: test/unit, in-process only: no build step (`npm run test:unit`); one module cache
 *   per fork (isolate: false), since these files share no state but what they import;
 * - `integration`: test/integration and test/chaos (spawned CLIs and worker threads run
 *   dist/, so the build comes first: build-setup.ts, skipped when dist/ is newer than every
 *   source). Fault tests start their own redis-server and signal only processes they started,
 *   and no test takes a duration or rate as a precondition (timings are derived from what the
 *   test itself measured), so they run beside the others instead of one at a time.
 * Every project finds a Redis first (global-setup.ts).
 */
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
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          globalSetup: [BUILD, REDIS],
          include: ['test/integration/**/*.test.ts', 'test/chaos/**/*.test.ts'],
        },
      },
    ],
  },
});
