/**
 * After its Redis was shut down and started again, a worker went on scoring but /readyz kept
 * answering 503 "redis not connected" (and roberta_batch_ready said 1): every pod behind a
 * readinessProbe would stay out of service after a Redis blip. Readiness follows the
 * connection both ways, the gauge with it.
 */
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { get } from '../helpers/http.js';

let worker: Spawned | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  if (worker) await stop(worker);
  await redis?.stop();
});

it('/readyz goes 503 while Redis is down and back to 200 once it is up again', async () => {
  const model = await testModel('sequence-classification', 'hf');
  redis = await startPrivateRedis();
  worker = spawnCli(['worker', '--queue', 'readyz', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'], { REDIS_URL: redis.url });
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  await worker.waitForEvent(LOG_EVENT.ready, 60_000);
  await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 10_000);
  const gauge = async () => Number(/^roberta_batch_ready (\d)/m.exec((await get(`${base}/metrics`)).body)?.[1]);
  expect(await gauge()).toBe(1);

  await redis.kill();
  await waitFor(async () => (await get(`${base}/readyz`)).status === 503, 20_000);
  expect(JSON.parse((await get(`${base}/readyz`)).body).reasons).toEqual(['redis not connected']);
  expect(await gauge()).toBe(0);

  await redis.start();
  // ioredis retries every 2 s at most: back well within this bound.
  await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 20_000);
  expect(await gauge()).toBe(1);
  // And it really serves again.
  await enqueueDocuments(syntheticDocs(40, 3), { redisUrl: redis.url, queue: 'readyz' });
  await waitFor(async () => /roberta_batch_documents_total\{status="ok",task="sentiment"\} 40/.test((await get(`${base}/metrics`)).body), 60_000);
  expect(await stop(worker)).toBe(0);
  worker = undefined;
}, 150_000);
