import { defineConfig } from 'vitest/config';
import FaultTestsFirst from './test/helpers/sequencer.js';

/**
 * Two projects, run together, three test files at a time on this project's 2-core machines:
 * - `unit`: test/unit, in-process only: no build step (`npm run test:unit`);
 * - `integration`: test/integration and test/chaos (spawned CLIs and worker threads run
 *   dist/, so the build comes first: build-setup.ts, skipped when dist/ is newer than every
 *   source). Fault tests start their own redis-server and signal only processes they started,
 *   and no test takes a duration or rate as a precondition (timings are derived from what the
 *   test itself measured), so they run beside the others instead of one at a time.
 * Both share one module cache per fork (isolate: false): the files share no state but what
 *   they import (every queue, Redis and temporary folder is a test's own), and re-importing
 *   BullMQ, onnxruntime and the tokenizer for each of ~100 integration files cost ~40 CPU-s.
 * Three forks on two cores: many integration tests wait (locks expiring, stalled checks, a
 *   Redis restart), and a third file keeps the cores busy meanwhile. minForks = maxForks:
 *   vitest 3.2 with isolate: false rejects with "Terminating worker thread" when it retires an
 *   idle fork (vitest-dev/vitest#8133, #8564).
 * On a fresh clone the chaos tests start first (test/helpers/sequencer.ts).
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
    isolate: false,
    sequence: { sequencer: FaultTestsFirst },
    poolOptions: { forks: { maxForks: 3, minForks: 3 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          globalSetup: [REDIS],
          include: ['test/unit/**/*.test.ts'],
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
