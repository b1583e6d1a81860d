/**
 * Redis (appendonly yes, appendfsync always) is SIGKILLed and started again on
 * the same port and folder while a producer, two workers and a following exporter are all
 * busy. Every client reconnects on its own, and the run completes with every document id
 * exported exactly once and nothing failed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor, finishedDocuments } from '../helpers/queues.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { withDeadline } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-redis-restart-'));
const spawned: Spawned[] = [];
let redis: PrivateRedis | undefined;
let q: Queue | undefined;

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 5_000)));
  if (q) await withDeadline(q.close(), 5_000, 'queue.close').catch(() => {});
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

it('reconnects producer, workers and exporter after a Redis restart; nothing lost, nothing twice', async () => {
  const N = 1_500;
  redis = await startPrivateRedis({ appendonly: true });
  const env = { REDIS_URL: redis.url };
  const queue = 'restart';
  const model = await testModel('sequence-classification', 'hf');
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(N, 31, 'rs')));
  const out = path.join(dir, 'out.jsonl');

  for (const id of ['w1', 'w2']) {
    spawned.push(spawnCli(['worker', '--queue', queue, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash',
      '--worker-id', id, '--intra-op-threads', '1', '--lock-duration-ms', '5000', '--stalled-interval-ms', '1000'], env));
  }
  await Promise.all(spawned.map((w) => w.waitForEvent(LOG_EVENT.ready, 60_000)));
  const exporter = spawnCli(['results', '--queue', queue, '--out', out, '--follow'], env);
  spawned.push(exporter);
  await exporter.waitForOutput(/exporting results until/);
  // Backpressure keeps the producer alive while the workers drain: it is mid-run at the restart.
  // One job per document, so that 200 waiting jobs hold the producer back mid-run.
  const producer = spawnCli(['enqueue', input, '--queue', queue, '--max-waiting', '200', '--chunk-size', '100', '--no-progress', '--docs-per-job', '1'], env);
  spawned.push(producer);

  await waitFor(() => lines(out).length >= 300, 60_000, 50);
  const exportedAtKill = lines(out).length;
  await redis.kill();
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.start();
  const restartedAt = performance.now();

  expect(await withDeadline(producer.exited, 120_000, 'producer'), producer.output()).toBe(0);
  expect(producer.output()).toMatch(/enqueued\s+1,500/);
  await waitFor(() => lines(out).length >= N, 120_000, 200);
  const drainedMs = performance.now() - restartedAt;
  q = new Queue(queue, { connection: bullConnection(redis.url) });
  // Completed jobs are removed; each finished document leaves its marker.
  await waitFor(async () => (await finishedDocuments(queue, redis!.url)) === N, 30_000, 200);
  // A job whose results and markers were written just before the kill, but whose completion
  // was not, comes back from the restarted Redis still active under its old lock: it is
  // recovered once that lock expires (--lock-duration-ms 5000), computed again, and its
  // result must not be exported twice. So wait for the queue to settle, then check the ids.
  const settled = { failed: 0, waiting: 0, active: 0, delayed: 0 };
  await waitFor(async () => JSON.stringify(await q!.getJobCounts('failed', 'waiting', 'active', 'delayed')) === JSON.stringify(settled), 60_000, 200)
    .catch(() => {}); // the assertion below shows the counts
  await new Promise((r) => setTimeout(r, 1_000)); // a duplicate would arrive now

  const ids = lines(out).map((l) => (JSON.parse(l) as { id: string }).id);
  expect(ids).toHaveLength(N);
  expect(new Set(ids).size).toBe(N);
  expect(lines(path.join(dir, 'out.errors.jsonl'))).toEqual([]);
  expect(await q.getJobCounts('failed', 'waiting', 'active', 'delayed')).toEqual(settled);
  // Every process saw the outage and came back without crashing.
  for (const s of spawned) expect(s.output(), s.output()).not.toMatch(/^\s+at /m);
  for (const w of spawned.slice(0, 3)) expect(await stop(w)).toBe(0);
  console.log(`Redis restart: ${exportedAtKill} of ${N} exported at the kill, 1 s down; the rest exported ${(drainedMs / 1000).toFixed(1)} s after the restart`);
}, 240_000);
