/**
 * Retention of finished documents' markers: `--keep-done-days N` puts them in a per-day hash
 * that expires N to N+1 days later, others are kept. While a marker exists a re-enqueue is a
 * no-op; once it is gone (expired), the same document is enqueued and computed again.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { doneDayKey, doneDaysKey, doneKey, utcDay } from '../../src/shared/done-markers.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { finishedDocuments, redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

const queue = uniqueQueueName('keep-days');
let worker: RobertaWorker | undefined;
const r = new Redis(redisUrl(), { maxRetriesPerRequest: 3 });
afterAll(async () => {
  if (worker) await closeWorker(worker);
  await removeQueues(queue);
  r.disconnect();
});

it('keeps markers N to N+1 days, dedups while they exist, recomputes after they expire', async () => {
  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, maxWaitMs: 20 });
  await worker.start();
  const kept = syntheticDocs(20, 3, 'kept');
  const expiring = syntheticDocs(30, 4, 'expiring');
  expect((await enqueueDocuments(kept, { redisUrl: redisUrl(), queue })).enqueued).toBe(20);
  expect((await enqueueDocuments(expiring, { redisUrl: redisUrl(), queue, keepDoneDays: 3 })).enqueued).toBe(30);
  await waitFor(async () => (await finishedDocuments(queue)) === 50, 60_000);

  const day = utcDay() + 3;
  const bucket = doneDayKey('bull', queue, day);
  expect(await r.hlen(doneKey('bull', queue))).toBe(20);
  expect(await r.hlen(bucket)).toBe(30);
  expect(await r.ttl(doneKey('bull', queue))).toBe(-1);
  const ttl = await r.ttl(bucket);
  expect(ttl).toBeGreaterThan(3 * 86_400);
  expect(ttl).toBeLessThanOrEqual(4 * 86_400);
  expect(await r.zrange(doneDaysKey('bull', queue), 0, -1)).toEqual([String(day)]);

  // Both are deduplicated while their markers exist.
  expect(await enqueueDocuments([...kept, ...expiring], { redisUrl: redisUrl(), queue })).toMatchObject({ enqueued: 0, alreadyQueued: 50 });

  // Expiry (what Redis does at the end of that day): the expiring documents are computed again.
  await r.del(bucket);
  expect(await enqueueDocuments([...kept, ...expiring], { redisUrl: redisUrl(), queue })).toMatchObject({ enqueued: 30, alreadyQueued: 20 });
  await waitFor(async () => (await r.hlen(doneKey('bull', queue))) === 50, 60_000);
}, 120_000);
