import { expect, test } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { jobIdForPack } from '../../src/shared/job-id.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';

test('--docs-per-job packs documents; the pack id comes from the ids, so a re-run is a no-op', async () => {
  const { name, queue } = useTestQueue();
  const docs = Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, text: `text ${i}` }));
  const s = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue: name, docsPerJob: 4, runId: 'run-p' });
  expect(s).toMatchObject({ read: 10, enqueued: 10, jobs: 3 });
  const jobs = await queue.getWaiting();
  expect(jobs.map((j) => j.data.docs.length).sort()).toEqual([2, 4, 4]);
  const first = await queue.getJob(jobIdForPack(['d0', 'd1', 'd2', 'd3']));
  expect(first?.data).toEqual({ v: 1, runId: 'run-p', docs: docs.slice(0, 4) });

  const again = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue: name, docsPerJob: 4 });
  expect(again).toMatchObject({ enqueued: 0, alreadyQueued: 10, jobs: 0 });
  expect(await queue.getWaitingCount()).toBe(3);
});

test('a pack is closed early rather than grown over --max-job-bytes', async () => {
  const { name, queue } = useTestQueue();
  const text = 'x'.repeat(400);
  const docs = Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, text }));
  const s = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue: name, docsPerJob: 6, maxJobBytes: 1100 });
  expect(s).toMatchObject({ enqueued: 6, rejected: 0, jobs: 3 });
  for (const job of await queue.getWaiting()) {
    expect(Buffer.byteLength(JSON.stringify(job.data))).toBeLessThanOrEqual(1100);
  }
});
