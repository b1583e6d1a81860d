/**
 * On a Redis with `maxmemory-policy allkeys-lru` (which deletes queued jobs
 * under memory pressure) the worker and the producer refuse to start with E_REDIS_CONFIG and a
 * non-zero exit, consuming no job; `--allow-eviction` turns the refusal into a warning.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { bullConnection } from '../../src/shared/redis.js';
import type { DocJobData } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { withDeadline } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-eviction-'));
let redis: PrivateRedis | undefined;
let worker: Spawned | undefined;
let q: Queue<DocJobData> | undefined;

afterAll(async () => {
  if (worker) await stop(worker);
  if (q) await withDeadline(q.close(), 5_000, 'queue.close');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('refuses allkeys-lru with E_REDIS_CONFIG and no job consumed; --allow-eviction only warns', async () => {
  redis = await startPrivateRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  const env = { REDIS_URL: redis.url };
  const docs = syntheticDocs(5, 9, 'ev');
  q = new Queue<DocJobData>('evict', { connection: bullConnection(redis.url) });
  await q.addBulk(docs.map((d) => ({ name: 'docs', data: { v: 1, docs: [d] }, opts: { jobId: d.id } })));
  const model = await testModel('sequence-classification', 'hf');
  const workerArgs = ['worker', '--queue', 'evict', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'];

  const refused = await runCli(workerArgs, env, 60_000);
  expect(refused.code).toBe(1);
  expect(refused.output).toMatch(/E_REDIS_CONFIG: Redis maxmemory-policy is "allkeys-lru".*--allow-eviction/);
  expect(refused.output).not.toMatch(/^\s+at /m);
  expect(await q.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({ waiting: 5, active: 0, completed: 0, failed: 0 });

  const input = path.join(dir, 'more.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(3, 10, 'ev-more')));
  const producer = await runCli(['enqueue', input, '--queue', 'evict', '--no-progress'], env, 60_000);
  expect(producer.code).toBe(1);
  expect(producer.output).toMatch(/E_REDIS_CONFIG: /);
  expect(await q.count()).toBe(5);

  worker = spawnCli([...workerArgs, '--allow-eviction'], env);
  await worker.waitForOutput(/allowed by --allow-eviction/);
  await worker.waitForEvent(LOG_EVENT.ready);
  await waitFor(async () => (await q!.getJobCounts('completed')).completed === 5, 30_000, 100);
  expect(await stop(worker)).toBe(0);
  worker = undefined;
}, 120_000);
