/**
 * roberta_batch_drain_seconds read 61 while `status` said 3 s: the rate behind it was the
 * documents of the last minute divided by 60 s, whatever the worker had been doing, so KEDA
 * scaled on a rate up to a minute stale (and a worker that started 5 s ago looked 12 times
 * slower than it was). The rate now covers the last 15 s, or the time since the worker began
 * serving if that is shorter (docs/DEPLOY.md). The worker runs in the test process: the
 * metrics are the worker's, a process around it adds nothing.
 */
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';

const queue = uniqueQueueName('drain');
let worker: RobertaWorker | undefined;
afterAll(async () => {
  if (worker) await closeWorker(worker);
  await removeQueues(queue);
});

const metric = (body: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(body)?.[1]);

it('documents_per_second is the recent rate, and drain_seconds the backlog at that rate', async () => {
  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, redisUrl: redisUrl() });
  await worker.start();
  const base = `http://127.0.0.1:${worker.metricsPort}`;
  const readySeenAt = performance.now();
  const scrape = async () => (await fetch(`${base}/metrics`)).text();

  await enqueueDocuments(syntheticDocs(40, 3), { redisUrl: redisUrl(), queue });
  await waitFor(async () => metric(await scrape(), 'roberta_batch_documents_total') === 40, 60_000);
  // A backlog that stays: delayed jobs count as waiting work for the autoscaler.
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  await q.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'docs', data: { v: 1, docs: [{ id: `later-${i}`, text: 'x' }] }, opts: { jobId: `later-${i}`, delay: 3_600_000 } })));
  await q.close();
  const body = await scrape();
  const servedSeconds = (performance.now() - readySeenAt) / 1000;
  const rate = metric(body, 'roberta_batch_documents_per_second');
  const drain = metric(body, 'roberta_batch_drain_seconds');

  // The 40 documents were all done within the time the test saw the worker serve. A minute's
  // average would say 40 / 60 = 0.67 docs/s however fast they went.
  if (servedSeconds < 14) expect(rate, `served ${servedSeconds.toFixed(1)} s`).toBeGreaterThanOrEqual(40 / Math.max(1, servedSeconds + 0.5));
  else expect(rate).toBeGreaterThan(0);
  expect(drain).toBeCloseTo(200 / rate, 1);
}, 120_000);
