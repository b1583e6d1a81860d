/**
 * /healthz answers as soon as the process runs; /readyz is 503 until the model is
 * loaded and Redis connected, then 200; /metrics carries the roberta_batch_ metrics.
 * Redis is started late on purpose (a private one on a port chosen up front).
 */
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { get } from '../helpers/http.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';
import type { RobertaWorker } from '../../src/worker/worker.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

let redis: PrivateRedis | undefined;
let worker: RobertaWorker | undefined;
afterEach(async () => {
  if (worker) await closeWorker(worker);
  await redis?.stop();
});

it('is alive at once, ready only with model and Redis, and exports metrics', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const redisPort = await freePort();
  const url = `redis://127.0.0.1:${redisPort}`;
  // In the test process: the endpoints are the worker's, the process around it adds nothing.
  worker = inProcessWorker({ queue: 'http-test', model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, redisUrl: url });
  let started = false;
  const start = worker.start().then(() => { started = true; });
  start.catch(() => {});
  const w = worker;
  await waitFor(() => w.metricsPort !== undefined, 30_000);
  const base = `http://127.0.0.1:${w.metricsPort}`;

  expect((await get(`${base}/healthz`)).status).toBe(200);
  const notReady = await get(`${base}/readyz`);
  expect(notReady.status).toBe(503);
  expect(JSON.parse(notReady.body).reasons).toEqual(expect.arrayContaining(['model not loaded', 'redis not connected']));
  // Still waiting for Redis: start() has not finished.
  expect(started).toBe(false);

  redis = await startPrivateRedis({ port: redisPort });
  await start;
  await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 10_000);

  await enqueueDocuments(syntheticDocs(50, 3), { redisUrl: url, queue: 'http-test' , jobOptions: KEEP_COMPLETED });
  await waitFor(async () => /roberta_batch_documents_total\{status="ok",task="sentiment"\} 50/.test((await get(`${base}/metrics`)).body), 30_000);
  const metrics = (await get(`${base}/metrics`)).body;
  for (const name of [
    'roberta_batch_batch_size_bucket', 'roberta_batch_batch_padded_tokens_bucket', 'roberta_batch_tokens_total',
    'roberta_batch_inference_seconds_bucket', 'roberta_batch_tokenize_seconds_bucket', 'roberta_batch_queue_wait_seconds_bucket',
    'roberta_batch_end_to_end_seconds_bucket', 'roberta_batch_queue_jobs', 'roberta_batch_model_info',
    'roberta_batch_event_loop_delay_p99_seconds', 'roberta_batch_drain_seconds', 'roberta_batch_process_cpu_seconds_total',
  ]) expect(metrics, name).toContain(name);
  expect(metrics).toMatch(/roberta_batch_queue_jobs\{queue="http-test",state="completed"\} 50/);
  expect(metrics).toMatch(/roberta_batch_ready 1/);
  expect((await get(`${base}/nope`)).status).toBe(404);
  // A clean close is what makes `roberta-batch worker` exit 0 (cli/signals.ts).
  expect(await worker.close()).toBe(true);
}, 90_000);
