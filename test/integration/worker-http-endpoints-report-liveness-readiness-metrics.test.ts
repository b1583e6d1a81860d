/**
 * Issue 3: /healthz answers as soon as the process runs; /readyz is 503 until the model is
 * loaded and Redis connected, then 200; /metrics carries the roberta_batch_ metrics.
 * Redis is started late on purpose (a private one on a port chosen up front).
 */
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { get } from '../helpers/http.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

let worker: Spawned | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  if (worker) await stop(worker);
  await redis?.stop();
});

it('is alive at once, ready only with model and Redis, and exports metrics', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const redisPort = await freePort();
  const url = `redis://127.0.0.1:${redisPort}`;
  worker = spawnCli(['worker', '--queue', 'http-test', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'], { REDIS_URL: url });
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];

  expect((await get(`${base}/healthz`)).status).toBe(200);
  const notReady = await get(`${base}/readyz`);
  expect(notReady.status).toBe(503);
  expect(JSON.parse(notReady.body).reasons).toEqual(expect.arrayContaining(['model not loaded', 'redis not connected']));
  await worker.waitForOutput(/waiting for Redis/);

  redis = await startPrivateRedis({ port: redisPort });
  await worker.waitForEvent(LOG_EVENT.ready, 30_000);
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
  expect(await stop(worker)).toBe(0);
  worker = undefined;
}, 90_000);
