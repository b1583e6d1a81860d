import { Worker } from 'bullmq';
import { expect, test } from 'vitest';
import { enqueueDocuments, type EnqueueProgress } from '../../src/producer/enqueue.js';
import { connectionFor, redisUrl, useTestQueue, withDeadline } from '../helpers/test-queue.js';

test('backpressure: the producer pauses while waiting > maxWaiting and resumes as a slow worker drains', async () => {
  const { name, queue } = useTestQueue();
  const maxWaiting = 20;
  const chunkSize = 10;
  const total = 120;
  // A slow consumer: ~5 ms per job, one at a time, so the queue fills faster than it drains.
  const worker = new Worker(name, async () => new Promise((r) => setTimeout(r, 5)), { connection: connectionFor(), concurrency: 1 });
  worker.on('error', () => {});
  let maxSeen = 0;
  const sampler = setInterval(() => {
    queue.getWaitingCount().then((n) => { maxSeen = Math.max(maxSeen, n); }, () => {});
  }, 10);
  const paused: EnqueueProgress[] = [];
  try {
    const docs = Array.from({ length: total }, (_, i) => ({ id: `d${i}`, text: 't' }));
    const s = await enqueueDocuments(docs, {
      redisUrl: redisUrl(), queue: name, maxWaiting, chunkSize, backpressurePollMs: 20,
      onProgress: (p) => { if (p.waitingJobs !== undefined) paused.push(p); },
    });
    expect(s.enqueued).toBe(total);
  } finally {
    clearInterval(sampler);
    await withDeadline(worker.close(), 10_000, 'worker.close');
  }
  // It did pause, and never let the waiting list grow past one chunk over the limit.
  expect(paused.length).toBeGreaterThan(0);
  expect(paused.every((p) => (p.waitingJobs ?? 0) > maxWaiting)).toBe(true);
  expect(maxSeen).toBeLessThanOrEqual(maxWaiting + chunkSize);
  expect(maxSeen).toBeGreaterThan(0);
});
