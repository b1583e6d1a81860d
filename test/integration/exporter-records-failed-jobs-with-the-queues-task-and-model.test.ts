/**
 * A document job that failed without a result (it stalled out of its attempts) is recorded by
 * the exporter with the task and model of the queue's results (one results queue holds one
 * task and model), not a made-up `sentiment`; with no result to learn from it says `unknown`.
 * The failed state is written directly with a BullMQ worker whose processor fails the job.
 */
import { readFileSync} from 'node:fs';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { expect, it, onTestFinished } from 'vitest';
import { encodeFailedReason } from '../../src/shared/errors.js';
import type { OkRecord, ResultJobData } from '../../src/shared/types.js';
import { ResultsExporter } from '../../src/exporter/results-exporter.js';
import { connectionFor, redisUrl, useTestQueue, withDeadline } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

async function failOneJob(queue: string, docId: string, reason: string): Promise<void> {
  const q = new Queue(queue, { connection: connectionFor() });
  await q.add('docs', { v: 1, docs: [{ id: docId, text: 'never scored' }] }, { jobId: docId });
  await q.close();
  const w = new Worker(queue, async () => { throw new Error(reason); }, { connection: connectionFor() });
  await new Promise<void>((resolve) => w.once('failed', () => resolve()));
  await withDeadline(w.close(), 5_000, 'worker.close');
}

function okEmbedRecord(id: string): OkRecord {
  return {
    v: 1, status: 'ok', id, model: { name: 'tiny-base', sha256: 'ab12' }, task: 'embed', workerId: 'w1',
    finishedAt: new Date().toISOString(), tokenCount: 3, truncated: false, windows: 1, batchSize: 1,
    timings: { endToEndMs: 1, batchWaitMs: 0, inferenceMs: 1 },
    embedding: { embedding: [0.6, 0.8], pooling: 'mean', normalized: true },
  };
}

async function exportFailures(queue: string): Promise<Record<string, unknown>[]> {
  const out = path.join(tempDir('rb-exp-'), 'out.jsonl');
  const exporter = new ResultsExporter({ redisUrl: redisUrl(), queue, prefix: 'bull', out });
  await exporter.start();
  try {
    await withDeadline(exporter.waitUntilDrained(50), 10_000, 'drain');
    await exporter.recordFailedJobsWithoutResult();
  } finally {
    await withDeadline(exporter.close(), 10_000, 'exporter.close');
  }
  return readFileSync(exporter.errorsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

it("an embed queue's failed job is recorded as embed, with the model of its results", async () => {
  const { name } = useTestQueue();
  const results = new Queue<ResultJobData>(`${name}-results`, { connection: connectionFor() });
  onTestFinished(async () => {
    await withDeadline(results.obliterate({ force: true }), 10_000, 'obliterate');
    await results.close();
  });
  await results.add('results', { v: 2, jobId: 'doc-1', records: [okEmbedRecord('doc-1')] }, { jobId: 'doc-1' });
  await failOneJob(name, 'doc-2', 'job stalled more than allowable limit');

  const failures = await exportFailures(name);
  expect(failures).toEqual([expect.objectContaining({
    id: 'doc-2', status: 'failed', task: 'embed', model: { name: 'tiny-base', sha256: 'ab12' }, workerId: 'exporter',
    code: 'E_INFERENCE', reason: 'job stalled more than allowable limit',
  })]);
});

it('says unknown when no result tells the task, and reads the code back from failedReason', async () => {
  const { name } = useTestQueue();
  await failOneJob(name, 'doc-9', encodeFailedReason('E_INPUT_TOO_LARGE', 'text is 9000000 bytes'));
  const failures = await exportFailures(name);
  expect(failures).toEqual([expect.objectContaining({
    id: 'doc-9', task: 'unknown', model: { name: 'unknown', sha256: 'unknown' }, code: 'E_INPUT_TOO_LARGE', reason: 'text is 9000000 bytes',
  })]);
});
