/**
 * `roberta-batch chaos --quick` (the real CLI): 600 documents + 14 planted bad
 * inputs through 3 worker processes on a private Redis while a worker is SIGKILLed mid-batch,
 * Redis is SIGKILLed and restarted from its AOF, and every client is paused past a job lock.
 * Nothing is lost or duplicated, every result is its own document's, failures are exactly the
 * planted bad inputs, and the queue ends empty.
 */
import { expect, it } from 'vitest';
import type { ChaosReport } from '../../src/chaos/report.js';
import { runCli } from '../helpers/cli.js';

it('keeps every document through a worker SIGKILL, a Redis restart and a client pause', async () => {
  const r = await runCli(['chaos', '--quick', '--json'], {}, 150_000);
  const line = r.output.split('\n').find((l) => l.startsWith('{"ok"'));
  expect(line, r.output.slice(-3000)).toBeDefined();
  const report = JSON.parse(line!) as ChaosReport;
  expect(report.failures).toEqual([]);
  expect(r.code).toBe(0);
  expect(report).toMatchObject({ ok: true, documentsIn: 614, resultsOut: 600, lost: 0, duplicateIds: 0, differFromReference: 0, workers: 3 });
  expect(report.recordedFailures).toEqual({ byWorker: 8, byProducer: 6, total: 14 });
  expect(report.plantedBadInputs).toEqual(report.recordedFailures);
  expect(report.faults.map((f) => f.kind)).toEqual(['sigkill', 'redis-restart', 'client-pause']);
  const kill = report.faults[0];
  expect(kill.stalled).toBeGreaterThan(0); // the killed worker held jobs, and they came back
  expect(kill.recoveryMs).toBeLessThan(30_000);
  // Finished jobs leave Redis: completed ones at once, failed ones once their failure is exported.
  expect(report.finalQueue).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
  console.log(report.faults.map((f) => `${f.kind}: stalled ${f.stalled}, recovery ${f.recoveryMs ?? '-'} ms`).join('; '));
}, 180_000);
