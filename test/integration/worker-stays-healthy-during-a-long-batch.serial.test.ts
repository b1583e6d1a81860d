/**
 * Issue 3: while a batch runs for several seconds, /healthz answers within 100 ms and no job
 * is reported stalled, with a lock (2 s) much shorter than the batch: inference runs in its
 * own thread, so the main thread keeps renewing BullMQ locks.
 */
import { afterEach, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

const queue = uniqueQueueName('long-batch');
let worker: Spawned | undefined;
afterEach(async () => {
  if (worker) await stop(worker);
  await removeQueues(queue);
});

it('answers /healthz fast and loses no lock while a multi-second batch runs', async () => {
  await enqueueDocuments(longDocs(32), { redisUrl: redisUrl(), queue });
  worker = spawnCli([
    'worker', '--queue', queue, '--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash',
    '--max-batch-size', '32', '--max-wait-ms', '1000', '--intra-op-threads', '1',
    '--lock-duration-ms', '2000', '--stalled-interval-ms', '500', '--max-stalled-count', '0',
  ]);
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  await worker.waitForOutput(/worker ready/, 60_000);

  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  const latencies: number[] = [];
  try {
    await waitFor(async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/healthz`);
      latencies.push(performance.now() - t0);
      expect(res.status).toBe(200);
      const c = await q.getJobCounts('completed', 'failed');
      return c.completed + c.failed === 32;
    }, 120_000, 50);
    const counts = await q.getJobCounts('completed', 'failed');
    expect(counts).toEqual({ completed: 32, failed: 0 });
  } finally {
    await q.close();
  }
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const runSeconds = Number(/roberta_batch_inference_seconds_sum ([\d.e+-]+)/.exec(metrics)![1]);
  const batches = Number(/roberta_batch_inference_seconds_count (\d+)/.exec(metrics)![1]);
  expect(runSeconds / batches).toBeGreaterThan(2); // the batch really took seconds
  expect(metrics).toMatch(/roberta_batch_stalled_jobs_total 0/);
  expect(worker.output()).not.toMatch(/job stalled/);
  latencies.sort((a, b) => a - b);
  expect(latencies[latencies.length - 1]).toBeLessThan(100);
  console.log(`batches ${batches}, mean run ${(runSeconds / batches).toFixed(2)} s, /healthz max ${latencies[latencies.length - 1].toFixed(1)} ms over ${latencies.length} probes`);
}, 180_000);
