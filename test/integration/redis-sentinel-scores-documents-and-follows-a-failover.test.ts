/**
 * REDIS_URL=redis+sentinel://host:port/master reaches the master through a
 * real Sentinel (started here with a master and a replica): documents are scored end to end by
 * a worker (in the test process: the connection handling is the worker's); after the master is killed and Sentinel promotes the replica, the same worker
 * scores documents enqueued afterwards, without a restart.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/result-job.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { uniqueQueueName, waitFor } from '../helpers/queues.js';
import { startSentinel, type PrivateSentinel } from '../helpers/redis-sentinel.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';

let sentinel: PrivateSentinel | undefined;
let worker: RobertaWorker | undefined;
beforeAll(async () => { sentinel = await startSentinel(); }, 30_000);
afterAll(async () => {
  if (worker) await closeWorker(worker);
  await sentinel?.stop();
});

it('scores through the Sentinel-named master, and through the promoted replica after a failover', async () => {
  const url = sentinel!.url;
  const queue = uniqueQueueName('sentinel');
  await enqueueDocuments(syntheticDocs(50, 3, 'a'), { redisUrl: url, queue });
  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, redisUrl: url });
  await worker.start();
  const results = () => new Queue(`${queue}-results`, { connection: bullConnection(url) });
  let r = results();
  await waitFor(async () => (await r.getJobCounts('waiting')).waiting === 50, 30_000, 100);
  await r.close();

  await sentinel!.syncReplica(); // replication is asynchronous: what the master had must be on the replica
  await sentinel!.master.kill();
  // Sentinel marks the master down after 1 s and promotes the replica; until then the
  // producer's start-up check fails (E_REDIS_UNREACHABLE after 2 s) and is tried again.
  await waitFor(async () => {
    try {
      await enqueueDocuments(syntheticDocs(30, 4, 'b'), { redisUrl: url, queue, redisWaitMs: 2_000 });
      return true;
    } catch {
      return false;
    }
  }, 30_000, 500);
  r = results();
  try {
    await waitFor(async () => (await r.getJobCounts('waiting')).waiting === 80, 30_000, 200);
    const ids = new Set((await r.getJobs(['waiting'], 0, -1)).flatMap((j) => recordsOf(j.data).map((rec) => rec.id)));
    for (const d of syntheticDocs(30, 4, 'b')) expect(ids.has(d.id), d.id).toBe(true);
  } finally {
    await r.close();
  }
  expect(await closeWorker(worker)).toBe(true);
  worker = undefined;
}, 120_000);
