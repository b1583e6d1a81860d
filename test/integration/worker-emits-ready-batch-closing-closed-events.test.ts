/**
 * A RobertaWorker in the test process, built with another real backend (an OnnxEngine on the
 * test thread instead of the inference thread): it tells its owner what happens through typed
 * events, in order: ready (once the model is loaded and jobs are fetched), batch per batch run,
 * then closing and closed(clean) on close(), which resolves the same promise to every caller.
 */
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import type { BatchStats } from '../../src/worker/batcher.js';
import { OnnxEngine } from '../../src/worker/engine.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import type { WorkerReady } from '../../src/worker/worker-events.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { finishedDocuments, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';

const queue = uniqueQueueName('events');
let worker: RobertaWorker | undefined;
afterEach(async () => {
  if (worker) await closeWorker(worker);
  await removeQueues(queue);
});

it('emits ready, batch, closing and closed, with a backend given by the test', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const opened: string[] = [];
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, maxWaitMs: 20, maxBatchSize: 8 }, {
    backend: (file, opts) => { opened.push(file); return OnnxEngine.open(file, opts); },
  });
  const seen: string[] = [];
  let ready: WorkerReady | undefined;
  const batches: BatchStats[] = [];
  worker.on('ready', (r) => { seen.push('ready'); ready = r; });
  worker.on('batch', (s) => { if (!seen.includes('batch')) seen.push('batch'); batches.push(s); });
  worker.on('closing', () => seen.push('closing'));
  worker.on('closed', (clean) => seen.push(`closed:${clean}`));

  await worker.start();
  expect(opened).toEqual([model.path]);
  expect(ready).toMatchObject({ queue, model: { path: model.path, signature: { outputKind: 'classification' } } });
  expect(ready!.metricsPort).toBe(worker.metricsPort);

  await enqueueDocuments(syntheticDocs(20, 5, 'ev'), { redisUrl: process.env.REDIS_URL!, queue });
  await waitFor(async () => (await finishedDocuments(queue)) === 20, 30_000);
  expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(20);
  for (const b of batches) expect(b.rows).toBeLessThanOrEqual(8);

  const [a, b] = [worker.close(), worker.close()];
  expect(a).toBe(b);
  expect(await a).toBe(true);
  expect(seen).toEqual(['ready', 'batch', 'closing', 'closed:true']);
});
